import { createHash } from "node:crypto";
import { Transform } from "node:stream";

import { AUDIO_MAGIC_BYTES, detectAudioFormat } from "@acebatch/audio";

import { DownloadError } from "./download-error.ts";

export interface DownloadGuardOptions {
  host: string;
  maxBytes: number;
  idleTimeoutMs: number;
  /** Called once when no bytes arrived for `idleTimeoutMs`; it should abort the download. */
  onIdle: () => void;
  /** Sees every accepted chunk, in order (the WAV meter, which measures the file as it passes). */
  onChunk?: (chunk: Buffer) => void;
}

export interface DownloadGuard {
  stream: Transform;
  /** Byte count and hex SHA-256 of everything that passed through; valid once the stream has ended. */
  summary(): { bytes: number; sha256: string };
}

/**
 * The pass-through every downloaded byte goes through on its way to disk: hashes and counts,
 * stops at `maxBytes`, checks the magic bytes as soon as there are enough of them (so an HTML
 * error page is refused after its first chunk, not after the whole body), and watches for a
 * stalled connection.
 */
export function createDownloadGuard(options: DownloadGuardOptions): DownloadGuard {
  const hash = createHash("sha256");
  let bytes = 0;
  let head: Buffer | null = Buffer.alloc(0); // null once the format has been checked
  let sha256: string | null = null;
  let idleTimer: NodeJS.Timeout | undefined;

  const armIdle = (): void => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(options.onIdle, options.idleTimeoutMs);
  };
  const notAudio = (): DownloadError =>
    new DownloadError({
      code: "download_not_audio",
      retryable: false,
      host: options.host,
      message: bytes === 0 ? "the body is empty" : "the body is not WAV, MP3, FLAC or Ogg audio (unrecognised first bytes)",
    });
  const checkHead = (final: boolean): DownloadError | null => {
    if (head === null || (!final && head.length < AUDIO_MAGIC_BYTES)) return null;
    const detected = detectAudioFormat(head);
    head = null;
    return detected === null ? notAudio() : null;
  };

  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      armIdle();
      bytes += chunk.length;
      if (bytes > options.maxBytes) {
        callback(new DownloadError({ code: "download_too_large", retryable: false, host: options.host, message: `the body exceeds the ${options.maxBytes}-byte limit` }));
        return;
      }
      hash.update(chunk);
      options.onChunk?.(chunk);
      if (head !== null) head = Buffer.concat([head, chunk.subarray(0, AUDIO_MAGIC_BYTES)]);
      callback(checkHead(false), chunk);
    },
    flush(callback) {
      clearTimeout(idleTimer);
      sha256 = hash.digest("hex");
      callback(checkHead(true));
    },
    destroy(error, callback) {
      clearTimeout(idleTimer);
      callback(error);
    },
  });
  armIdle();

  return {
    stream,
    summary() {
      if (sha256 === null) throw new Error("download guard: summary() before the stream ended");
      return { bytes, sha256 };
    },
  };
}
