import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStreamDefaultReader } from "node:stream/web";

import { AUDIO_MAGIC_BYTES, AudioProbeError, detectAudioFormat, parseWavHeader, probeAudioFile } from "@acebatch/audio";

/** The source of an inpaint/outpaint request could not be fetched or is not audio. */
export class SourceAudioError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SourceAudioError";
  }
}

export interface SourceProbeOptions {
  timeoutMs: number;
  /** Largest non-WAV source downloaded for measuring, in bytes. */
  maxBytes?: number;
  fetch?: typeof fetch;
}

const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

type Reader = ReadableStreamDefaultReader<Uint8Array>;

/** Append the next chunk of `reader` to `head`; null at end of stream. */
async function readMore(reader: Reader, head: Buffer): Promise<Buffer | null> {
  const { done, value } = await reader.read();
  return done ? null : Buffer.concat([head, value]);
}

async function countRemaining(reader: Reader): Promise<number> {
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
  }
}

/** A WAV's length from its header alone (plus a byte count when the data chunk runs to the end). */
async function measureWav(reader: Reader, first: Buffer, contentLength: number | null): Promise<number> {
  let head = first;
  let total = contentLength;
  for (;;) {
    const parsed = parseWavHeader(head, total);
    if (parsed.status === "ok") {
      if (parsed.info.frames === 0) throw new SourceAudioError("source WAV holds no audio frames");
      return parsed.info.durationSeconds;
    }
    if (parsed.status === "need-total-size") {
      total = head.length + (await countRemaining(reader));
      continue;
    }
    while (head.length < parsed.bytes) {
      const more = await readMore(reader, head);
      if (more === null) {
        total = head.length; // the stream ended: parsing again reports the truncation
        break;
      }
      head = more;
    }
  }
}

/** Other formats: download to a temp file (bounded) and let @acebatch/audio measure it. */
async function measureByDownload(reader: Reader, first: Buffer, maxBytes: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "acebatch-sim-source-"));
  try {
    const path = join(dir, "source");
    let bytes = 0;
    const chunks = async function* () {
      yield first;
      bytes += first.length;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        bytes += value.byteLength;
        if (bytes > maxBytes) throw new SourceAudioError(`source audio is larger than ${maxBytes} bytes`);
        yield value;
      }
    };
    await pipeline(Readable.from(chunks()), createWriteStream(path));
    return (await probeAudioFile(path)).durationSeconds;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Fetch a source track the way the provider does (server-side, no credentials) and return its
 * length in seconds. Reads only the header of a WAV. Throws SourceAudioError with a message fit for
 * the request's `error`.
 */
export async function measureSourceSeconds(url: string, options: SourceProbeOptions): Promise<number> {
  const doFetch = options.fetch ?? fetch;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
  let reader: Reader | undefined;
  try {
    let response: Response;
    try {
      response = await doFetch(url, { signal: controller.signal, redirect: "follow" });
    } catch (err) {
      throw new SourceAudioError(`could not fetch source audio: ${describe(err)}`, { cause: err });
    }
    if (!response.ok) throw new SourceAudioError(`could not fetch source audio: the URL answered HTTP ${response.status}`);
    if (response.body === null) throw new SourceAudioError("could not fetch source audio: empty response");
    reader = response.body.getReader() as Reader;
    // fetch decompresses transparently, so a compressed Content-Length is not the file size.
    const declared = response.headers.get("content-encoding") ? null : response.headers.get("content-length");
    const contentLength = declared !== null && /^\d+$/.test(declared) ? Number(declared) : null;

    let head: Buffer = Buffer.alloc(0);
    while (head.length < AUDIO_MAGIC_BYTES) {
      const more = await readMore(reader, head);
      if (more === null) break;
      head = more;
    }
    const detected = detectAudioFormat(head);
    if (detected === null) throw new SourceAudioError("source audio is not an MP3, WAV, FLAC or Ogg file");
    return detected.format === "wav"
      ? await measureWav(reader, head, contentLength)
      : await measureByDownload(reader, head, options.maxBytes ?? DEFAULT_MAX_BYTES);
  } catch (err) {
    if (err instanceof SourceAudioError) throw err;
    if (err instanceof AudioProbeError) throw new SourceAudioError(`source audio is unreadable: ${err.message}`, { cause: err });
    throw new SourceAudioError(`could not fetch source audio: ${describe(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
    // Stop the download: we only needed the header.
    reader?.cancel().catch(() => {});
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return `${err.message}${cause}`;
  }
  return String(err);
}
