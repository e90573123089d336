import { open, type FileHandle } from "node:fs/promises";
import { parseFile } from "music-metadata";

import { AudioProbeError } from "./audio-probe-error.ts";
import { AUDIO_MAGIC_BYTES, detectAudioFormat, type AudioFormat } from "./detect-format.ts";
import { parseWavHeader, type WavInfo } from "./wav-header.ts";

/** What `probeAudioFile` measured. */
export interface AudioProbe {
  format: AudioFormat;
  contentType: string;
  durationSeconds: number;
  sampleRate: number;
  channels: number;
  bytes: number;
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** Parse the header of a WAV file of `bytes` bytes, reading as much of its start as the header needs. */
export async function readWavInfo(handle: FileHandle, bytes: number): Promise<WavInfo> {
  let head = await readAt(handle, 0, Math.min(bytes, 64 * 1024));
  for (;;) {
    const parsed = parseWavHeader(head, bytes);
    if (parsed.status === "ok") return parsed.info;
    // need-total-size cannot happen: the total size is known.
    if (parsed.status !== "need-more") throw new AudioProbeError("WAV header could not be parsed");
    head = await readAt(handle, 0, parsed.bytes);
  }
}

async function probeWav(handle: FileHandle, bytes: number): Promise<Omit<AudioProbe, "format" | "contentType" | "bytes">> {
  const info = await readWavInfo(handle, bytes);
  if (info.frames === 0) throw new AudioProbeError("WAV file holds no audio frames (empty or truncated)");
  return { durationSeconds: info.durationSeconds, sampleRate: info.sampleRate, channels: info.channels };
}

async function probeWithMusicMetadata(path: string, format: AudioFormat): Promise<Omit<AudioProbe, "format" | "contentType" | "bytes">> {
  let metadata;
  try {
    // `duration: true` lets it scan the whole file (MP3 without a Xing/VBRI header).
    metadata = await parseFile(path, { duration: true, skipCovers: true });
  } catch (err) {
    throw new AudioProbeError(`could not parse ${format.toUpperCase()} file: ${(err as Error).message}`, { cause: err });
  }
  const { duration, sampleRate, numberOfChannels } = metadata.format;
  if (duration === undefined || !Number.isFinite(duration) || duration <= 0) {
    throw new AudioProbeError(`${format.toUpperCase()} file has no measurable duration (truncated or empty?)`);
  }
  return { durationSeconds: duration, sampleRate: sampleRate ?? 0, channels: numberOfChannels ?? 0 };
}

/**
 * Measure an audio file on disk: format (from its magic bytes, never its name), duration in
 * seconds, sample rate in Hz, channels and size in bytes. WAV is read from its header alone (exact
 * frame count); MP3/FLAC/Ogg go through music-metadata. Throws AudioProbeError for anything that is
 * not measurable audio.
 */
export async function probeAudioFile(path: string): Promise<AudioProbe> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (err) {
    throw new AudioProbeError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const { size: bytes } = await handle.stat();
    const head = await readAt(handle, 0, AUDIO_MAGIC_BYTES);
    const detected = detectAudioFormat(head);
    if (detected === null) {
      throw new AudioProbeError(
        bytes < AUDIO_MAGIC_BYTES
          ? `not audio: the file is only ${bytes} bytes`
          : "not audio: expected a WAV, MP3, FLAC or Ogg file (unrecognised leading bytes)",
      );
    }
    const measured = detected.format === "wav" ? await probeWav(handle, bytes) : await probeWithMusicMetadata(path, detected.format);
    return { format: detected.format, contentType: detected.contentType, bytes, ...measured };
  } finally {
    await handle.close();
  }
}
