import { open } from "node:fs/promises";

import { AUDIO_MAGIC_BYTES, detectAudioFormat } from "@acebatch/audio";

import { resolveTools, type ToolOptions } from "./ffmpeg.ts";
import { countDecodedFrames, probeStream, streamDecodedPcm } from "./pcm-io.ts";

/** Min/max per pixel column of a track, for the dashboard's waveform view. */
export interface WaveformPeaks {
  columns: number;
  sampleRate: number;
  /** Decoded frames / sample rate. */
  durationSeconds: number;
  /** One [min, max] pair per column over all channels, in -1…1, rounded to 3 decimals. */
  peaks: [number, number][];
}

export const MAX_WAVEFORM_COLUMNS = 10_000;

const round3 = (v: number): number => {
  const r = Math.round(Math.max(-1, Math.min(1, v)) * 1000) / 1000;
  return r === 0 ? 0 : r; // no -0 in the JSON
};

/**
 * Waveform peaks of any audio file ffmpeg can decode, computed from decoded PCM streamed out of
 * ffmpeg (memory does not grow with the track). Columns are laid out by the exact frame count:
 * the container's for WAV, FLAC and Ogg; for MP3 (whose header only estimates it) and anything
 * else, a first decoding pass counts the frames.
 */
export async function waveformPeaks(inputPath: string, options: ToolOptions & { columns?: number } = {}): Promise<WaveformPeaks> {
  const columns = options.columns ?? 800;
  if (!Number.isInteger(columns) || columns < 1 || columns > MAX_WAVEFORM_COLUMNS) {
    throw new RangeError(`columns must be a whole number 1–${MAX_WAVEFORM_COLUMNS}, got ${columns}`);
  }
  const tools = await resolveTools(options);
  const stream = await probeStream(tools, inputPath, options.signal);
  const { sampleRate, channels } = stream;
  const exactInContainer = ["wav", "flac", "ogg"].includes((await sniffFormat(inputPath)) ?? "");
  const totalFrames = Math.max(
    1,
    exactInContainer && stream.durationSeconds !== null
      ? Math.round(stream.durationSeconds * sampleRate)
      : await countDecodedFrames(tools, inputPath, options.signal),
  );
  const mins = new Float64Array(columns).fill(Infinity);
  const maxs = new Float64Array(columns).fill(-Infinity);
  let sampleIndex = 0;
  const frames = await streamDecodedPcm(tools, inputPath, {
    channels,
    signal: options.signal,
    onSamples: (samples) => {
      for (let i = 0; i < samples.length; i++, sampleIndex++) {
        const frame = Math.floor(sampleIndex / channels);
        const column = Math.min(columns - 1, Math.floor((frame * columns) / totalFrames));
        const v = samples[i]!;
        if (v < mins[column]!) mins[column] = v;
        if (v > maxs[column]!) maxs[column] = v;
      }
    },
  });
  const peaks: [number, number][] = [];
  for (let c = 0; c < columns; c++) {
    // Only a file whose decoded length disagrees with its own header leaves a column empty.
    peaks.push(mins[c] === Infinity ? [0, 0] : [round3(mins[c]!), round3(maxs[c]!)]);
  }
  return { columns, sampleRate, durationSeconds: frames / sampleRate, peaks };
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
