import { open } from "node:fs/promises";

import { AUDIO_MAGIC_BYTES, checkWaveformColumns, createPeakAccumulator, detectAudioFormat, type WaveformPeaks } from "@acebatch/audio";

import { resolveTools, type ToolOptions } from "./ffmpeg.ts";
import { countDecodedFrames, probeStream, streamDecodedPcm } from "./pcm-io.ts";

/**
 * Waveform peaks of any audio file ffmpeg can decode, computed from decoded PCM streamed out of
 * ffmpeg (memory does not grow with the track). Columns are laid out by the exact frame count:
 * the container's for WAV, FLAC and Ogg; for MP3 (whose header only estimates it) and anything
 * else, a first decoding pass counts the frames.
 */
export async function waveformPeaks(inputPath: string, options: ToolOptions & { columns?: number } = {}): Promise<WaveformPeaks> {
  const columns = options.columns ?? 800;
  checkWaveformColumns(columns);
  const tools = await resolveTools(options);
  const stream = await probeStream(tools, inputPath, options.signal);
  const { sampleRate, channels } = stream;
  const exactInContainer = ["wav", "flac", "ogg"].includes((await sniffFormat(inputPath)) ?? "");
  const totalFrames =
    exactInContainer && stream.durationSeconds !== null
      ? Math.round(stream.durationSeconds * sampleRate)
      : await countDecodedFrames(tools, inputPath, options.signal);
  const peaks = createPeakAccumulator(columns, totalFrames, channels);
  await streamDecodedPcm(tools, inputPath, { channels, signal: options.signal, onSamples: (samples) => peaks.add(samples) });
  return peaks.result(sampleRate);
}

async function sniffFormat(path: string): Promise<string | null> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(AUDIO_MAGIC_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return detectAudioFormat(head.subarray(0, bytesRead))?.format ?? null;
  } finally {
    await handle.close();
  }
}
