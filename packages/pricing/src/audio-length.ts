import { AudioProbeError, AUDIO_MAGIC_BYTES, detectAudioFormat, parseWavHeader } from "@acebatch/audio";
import { parseFromTokenizer } from "music-metadata";
import type { RemoteFile } from "./remote-file.ts";
import { RemoteTokenizer } from "./remote-tokenizer.ts";
import { SourceLengthError } from "./source-length-error.ts";

const WAV_FIRST_BYTES = 64 * 1024;
const OGG_TAIL_BYTES = 64 * 1024;

function unknown(message: string, cause?: unknown): SourceLengthError {
  return new SourceLengthError("duration_unknown", message, cause === undefined ? undefined : { cause });
}

/** A WAV's length from its header; the total size resolves an open-ended data chunk. */
async function wavSeconds(file: RemoteFile): Promise<number> {
  let head = await file.read(0, WAV_FIRST_BYTES);
  for (;;) {
    // A prefix shorter than asked for is the whole file: let the parser report the truncation.
    const total = file.total ?? (head.length < WAV_FIRST_BYTES ? head.length : null);
    let parsed;
    try {
      parsed = parseWavHeader(head, total);
    } catch (err) {
      if (err instanceof AudioProbeError) throw unknown(`source WAV is unreadable: ${err.message}`, err);
      throw err;
    }
    if (parsed.status === "ok") {
      if (parsed.info.frames === 0) throw unknown("source WAV holds no audio frames");
      return parsed.info.durationSeconds;
    }
    if (parsed.status === "need-total-size") {
      throw unknown("source WAV does not declare its data size and the server did not say how big the file is");
    }
    const more = await file.read(0, parsed.bytes);
    if (more.length <= head.length) throw unknown("source WAV ends inside its header");
    head = more;
  }
}

/** Where the audio starts after any ID3v2 tags (cover art can make them megabytes long). */
async function afterId3v2(file: RemoteFile): Promise<number> {
  let offset = 0;
  for (let i = 0; i < 4; i++) {
    const h = await file.read(offset, 10);
    if (h.length < 10 || h[0] !== 0x49 || h[1] !== 0x44 || h[2] !== 0x33) return offset;
    const size = ((h[6]! & 0x7f) << 21) | ((h[7]! & 0x7f) << 14) | ((h[8]! & 0x7f) << 7) | (h[9]! & 0x7f);
    offset += 10 + size + (h[5]! & 0x10 ? 10 : 0);
  }
  return offset;
}

function indexOf(bytes: Uint8Array, text: string, from = 0): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(text, from, "latin1");
}

/**
 * An Ogg stream's length from the granule position of its last page (music-metadata, reading only
 * the start, would report the length of what it read). Opus granules count 48 kHz samples and
 * include the pre-skip.
 */
async function oggSeconds(file: RemoteFile, sampleRate: number | undefined, codec: string | undefined): Promise<number> {
  if (file.total === null) throw unknown("source Ogg file: the server did not say how big it is, so its last page cannot be read");
  const head = await file.read(0, 4096);
  const serial = Buffer.from(head).readUInt32LE(14);
  const tailStart = Math.max(0, file.total - OGG_TAIL_BYTES);
  const tail = Buffer.from(await file.read(tailStart, file.total - tailStart));
  let granule = -1n;
  for (let i = tail.lastIndexOf("OggS"); i >= 0; i = i === 0 ? -1 : tail.lastIndexOf("OggS", i - 1)) {
    if (i + 18 <= tail.length && tail[i + 4] === 0 && tail.readUInt32LE(i + 14) === serial) {
      const g = tail.readBigInt64LE(i + 6);
      if (g >= 0n) {
        granule = g;
        break;
      }
    }
  }
  if (granule < 0n) throw unknown("source Ogg file: no final page with a granule position found");
  const opus = /opus/i.test(codec ?? "");
  const rate = opus ? 48_000 : sampleRate;
  if (!rate) throw unknown("source Ogg file: sample rate unknown");
  const opusHead = opus ? indexOf(head, "OpusHead") : -1;
  const preSkip = opusHead >= 0 && opusHead + 12 <= head.length ? Buffer.from(head).readUInt16LE(opusHead + 10) : 0;
  return (Number(granule) - preSkip) / rate;
}

/** MP3/FLAC/Ogg through music-metadata, reading as little as it needs. */
async function taggedSeconds(file: RemoteFile, format: "mp3" | "flac" | "ogg", contentType: string): Promise<number> {
  const offset = format === "mp3" ? await afterId3v2(file) : 0;
  let metadata;
  try {
    metadata = await parseFromTokenizer(new RemoteTokenizer(file, offset, contentType), { duration: false, skipCovers: true });
  } catch (err) {
    if (err instanceof SourceLengthError || (err as Error).name === "AbortError") throw err;
    throw unknown(`source ${format.toUpperCase()} file could not be parsed: ${(err as Error).message}`, err);
  }
  const { duration, sampleRate, codec } = metadata.format;
  if (format === "ogg") return oggSeconds(file, sampleRate, codec);
  if (duration === undefined) {
    throw unknown(`source ${format.toUpperCase()} file does not reveal its duration in its first bytes${file.total === null ? " and the server did not say how big it is" : ""}`);
  }
  return duration;
}

/** The length in seconds of the audio in `file`; throws SourceLengthError saying why when it cannot be known. */
export async function measureRemoteAudio(file: RemoteFile): Promise<number> {
  const magic = await file.read(0, AUDIO_MAGIC_BYTES);
  const detected = detectAudioFormat(magic);
  if (detected === null) throw new SourceLengthError("not_audio", "source is not audio: its first bytes are not those of an MP3, WAV, FLAC or Ogg file");
  const seconds = detected.format === "wav" ? await wavSeconds(file) : await taggedSeconds(file, detected.format, detected.contentType);
  if (!Number.isFinite(seconds) || seconds <= 0) throw unknown(`source ${detected.format.toUpperCase()} file reports a duration of ${seconds} s`);
  return seconds;
}
