import { open } from "node:fs/promises";
import { endianness } from "node:os";

import { parseWavHeader, type WavInfo } from "@acebatch/audio";

import { FFMPEG_BASE_ARGS, runTool, type FfmpegTools } from "./ffmpeg.ts";
import { FinishError } from "./finish-error.ts";

/** What ffprobe says about the first audio stream of a file. */
export interface StreamInfo {
  sampleRate: number;
  channels: number;
  /** Container duration in seconds (exact for WAV/FLAC, an estimate for MP3); null when unknown. */
  durationSeconds: number | null;
}

/** Probe the first audio stream with ffprobe; throws FinishError("unfinishable_input") if there is none. */
export async function probeStream(tools: FfmpegTools, path: string, signal?: AbortSignal): Promise<StreamInfo> {
  const { stdout } = await runTool(
    tools.ffprobe,
    ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate,channels:format=duration", "-of", "json", path],
    { signal, timeoutMs: 30_000 },
  );
  let parsed: { streams?: { sample_rate?: unknown; channels?: unknown }[]; format?: { duration?: unknown } };
  try {
    parsed = JSON.parse(stdout.toString("utf8")) as typeof parsed;
  } catch (err) {
    throw new FinishError("ffmpeg_failed", `ffprobe printed unparseable JSON for ${path}`, { cause: err });
  }
  const stream = parsed.streams?.[0];
  const sampleRate = Number(stream?.sample_rate);
  const channels = Number(stream?.channels);
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || !Number.isInteger(channels) || channels <= 0) {
    throw new FinishError("unfinishable_input", `${path} has no audio stream ffmpeg can read`);
  }
  const duration = Number(parsed.format?.duration);
  return { sampleRate, channels, durationSeconds: Number.isFinite(duration) && duration > 0 ? duration : null };
}

/** Read the header of a WAV file on disk (exact frame count, data offset). */
export async function readWavInfo(path: string): Promise<WavInfo> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    let length = Math.min(size, 4096);
    for (;;) {
      const head = Buffer.alloc(length);
      await handle.read(head, 0, length, 0);
      const parsed = parseWavHeader(head, size);
      if (parsed.status === "ok") return parsed.info;
      if (parsed.status !== "need-more") throw new FinishError("ffmpeg_failed", `cannot read the WAV header of ${path}`);
      length = parsed.bytes;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Decode the first audio stream of any input to a 32-bit float WAV at its own sample rate and
 * channel count, so every later step reads exact frames.
 */
export async function decodeToFloatWav(tools: FfmpegTools, inputPath: string, outPath: string, signal?: AbortSignal): Promise<WavInfo> {
  await runTool(tools.ffmpeg, [...FFMPEG_BASE_ARGS, "-i", inputPath, "-map", "0:a:0", "-vn", "-c:a", "pcm_f32le", "-f", "wav", outPath], { signal });
  const info = await readWavInfo(outPath);
  if (info.frames === 0) throw new FinishError("unfinishable_input", `${inputPath} decodes to no audio frames`);
  return info;
}

/** Read `frames` interleaved float frames from a float WAV, starting at frame `start`. */
export async function readFloatFrames(path: string, info: WavInfo, start: number, frames: number): Promise<Float32Array> {
  if (info.bitsPerSample !== 32 || (info.audioFormat !== 3 && info.audioFormat !== 0xfffe)) {
    throw new FinishError("ffmpeg_failed", `${path} is not a 32-bit float WAV`);
  }
  const count = Math.max(0, Math.min(frames, info.frames - start));
  const bytes = Buffer.alloc(count * info.blockAlign);
  const handle = await open(path, "r");
  try {
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, info.dataOffset + start * info.blockAlign + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
  } finally {
    await handle.close();
  }
  // WAV is little-endian like every platform we run on: view the bytes instead of copying them.
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count * info.channels);
  const samples = new Float32Array(count * info.channels);
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readFloatLE(i * 4);
  return samples;
}

const LITTLE_ENDIAN = endianness() === "LE";

/** Encode interleaved float PCM to a float WAV through ffmpeg (fed on stdin). */
export async function writeFloatWav(
  tools: FfmpegTools,
  samples: Float32Array,
  format: { sampleRate: number; channels: number },
  outPath: string,
  signal?: AbortSignal,
): Promise<void> {
  let bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  if (!LITTLE_ENDIAN) {
    const swapped = Buffer.alloc(samples.length * 4);
    for (let i = 0; i < samples.length; i++) swapped.writeFloatLE(samples[i]!, i * 4);
    bytes = swapped;
  }
  await runTool(
    tools.ffmpeg,
    [...FFMPEG_BASE_ARGS, "-f", "f32le", "-ar", String(format.sampleRate), "-ac", String(format.channels), "-i", "pipe:0", "-c:a", "pcm_f32le", outPath],
    { signal, stdin: bytes },
  );
}

/**
 * Stream the decoded audio of a file as interleaved float samples (optionally downmixed and/or
 * resampled by ffmpeg) to `onSamples`, in chunks, so memory stays flat. Returns the frame count.
 */
export async function streamDecodedPcm(
  tools: FfmpegTools,
  path: string,
  options: { channels: number; sampleRate?: number; signal?: AbortSignal | undefined; onSamples: (samples: Float32Array) => void },
): Promise<number> {
  const args = [...FFMPEG_BASE_ARGS, "-i", path, "-map", "0:a:0", "-vn", "-ac", String(options.channels)];
  if (options.sampleRate !== undefined) args.push("-ar", String(options.sampleRate));
  args.push("-f", "f32le", "-c:a", "pcm_f32le", "pipe:1");
  let carry = Buffer.alloc(0);
  let samplesSeen = 0;
  await runTool(tools.ffmpeg, args, {
    signal: options.signal,
    onStdout: (chunk) => {
      const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const whole = bytes.length - (bytes.length % 4);
      const samples = new Float32Array(whole / 4);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readFloatLE(i * 4);
      carry = Buffer.from(bytes.subarray(whole));
      samplesSeen += samples.length;
      if (samples.length > 0) options.onSamples(samples);
    },
  });
  return Math.floor(samplesSeen / options.channels);
}

/** Decode a file with ffmpeg and count its frames (mono 16-bit on a pipe: constant memory). */
export async function countDecodedFrames(tools: FfmpegTools, path: string, signal?: AbortSignal): Promise<number> {
  let bytes = 0;
  await runTool(tools.ffmpeg, [...FFMPEG_BASE_ARGS, "-i", path, "-map", "0:a:0", "-ac", "1", "-f", "s16le", "-c:a", "pcm_s16le", "pipe:1"], {
    signal,
    onStdout: (chunk) => {
      bytes += chunk.length;
    },
  });
  return Math.floor(bytes / 2);
}
