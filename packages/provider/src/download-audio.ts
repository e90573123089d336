import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

import { AudioProbeError, probeAudioFile, type AudioFormat } from "@acebatch/audio";

import { createDownloadGuard } from "./download-guard.ts";
import { DownloadError } from "./download-error.ts";

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export interface DownloadAudioOptions {
  /** An http(s) URL of the provider's output (a CDN host; no token is ever sent to it). */
  url: string;
  /** Where to write the file; replaced if it exists, deleted on failure. */
  destPath: string;
  /** Largest body accepted, bytes. */
  maxBytes: number;
  /** Until the response headers arrive, milliseconds; default 10 000. */
  connectTimeoutMs?: number;
  /** Longest gap between two chunks of the body, milliseconds; default 30 000. */
  idleTimeoutMs?: number;
  /** The whole download, milliseconds; default none. */
  totalTimeoutMs?: number;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export interface DownloadedAudio {
  bytes: number;
  /** Hex SHA-256 of the file. */
  sha256: string;
  /** Detected from the bytes, never from the URL or Content-Type. */
  format: AudioFormat;
  contentType: string;
  /** Measured from the file, seconds. */
  durationSeconds: number;
  /** Hz. */
  sampleRate: number;
  channels: number;
}

type Timeout = "connect" | "idle" | "total";

function parseUrl(url: string): URL {
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    const shown = parsed ? `${parsed.protocol} URL` : "an unparseable URL";
    throw new DownloadError({ code: "download_failed", retryable: false, host: parsed?.host ?? "", message: `only http(s) URLs are downloaded, got ${shown}` });
  }
  return parsed;
}

/**
 * Stream provider output to `destPath` (never whole in memory), without any Authorization header,
 * refusing bodies over `maxBytes` or that are not audio, then measure the file. Throws
 * `DownloadError`; the partial file is deleted on every failure.
 */
export async function downloadAudio(options: DownloadAudioOptions): Promise<DownloadedAudio> {
  const url = parseUrl(options.url);
  const host = url.host;
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0) throw new TypeError("downloadAudio: maxBytes must be a positive integer");
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const fetchImpl = options.fetch ?? globalThis.fetch;

  const controller = new AbortController();
  let tripped: Timeout | null = null;
  const trip = (which: Timeout): void => {
    tripped ??= which;
    controller.abort(new Error(`${which} timeout`));
  };
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const connectTimer = setTimeout(() => trip("connect"), connectTimeoutMs);
  const totalTimer = options.totalTimeoutMs === undefined ? undefined : setTimeout(() => trip("total"), options.totalTimeoutMs);

  const failed = (message: string, extra: { httpStatus?: number; cause?: unknown } = {}): DownloadError =>
    new DownloadError({ code: "download_failed", retryable: true, host, message, ...extra });

  function explain(cause: unknown): DownloadError {
    if (cause instanceof DownloadError) return cause;
    if (tripped === "connect") return failed(`no response within ${connectTimeoutMs} ms`, { cause });
    if (tripped === "idle") return failed(`no bytes received for ${idleTimeoutMs} ms (idle timeout)`, { cause });
    if (tripped === "total") return failed(`not finished within ${options.totalTimeoutMs} ms`, { cause });
    if (options.signal?.aborted) return failed("aborted", { cause });
    const fsError = cause as NodeJS.ErrnoException | null;
    if (fsError?.path !== undefined && fsError.code) return failed(`could not write the file (${fsError.code})`, { cause });
    const code = (cause as { cause?: { code?: unknown } } | null)?.cause?.code ?? (cause as { code?: unknown } | null)?.code;
    const detail = typeof code === "string" ? code : cause instanceof Error ? cause.message : String(cause);
    return failed(`network error (${detail})`, { cause });
  }

  try {
    let response: Response;
    try {
      // Deliberately no Authorization header: the provider token never leaves the API host.
      response = await fetchImpl(url.href, { method: "GET", headers: { accept: "audio/*, application/octet-stream;q=0.9, */*;q=0.5" }, redirect: "follow", signal });
    } finally {
      clearTimeout(connectTimer);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw failed(`HTTP ${response.status}${response.status === 403 || response.status === 404 || response.status === 410 ? " (the result URL may have expired)" : ""}`, { httpStatus: response.status });
    }
    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw new DownloadError({ code: "download_too_large", retryable: false, host, message: `Content-Length ${declared} exceeds the ${options.maxBytes}-byte limit` });
    }
    if (!response.body) throw new DownloadError({ code: "download_not_audio", retryable: false, host, message: "the body is empty" });

    const guard = createDownloadGuard({ host, maxBytes: options.maxBytes, idleTimeoutMs, onIdle: () => trip("idle") });
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), guard.stream, createWriteStream(options.destPath), { signal });
    const { bytes, sha256 } = guard.summary();

    let probe;
    try {
      probe = await probeAudioFile(options.destPath);
    } catch (cause) {
      if (cause instanceof AudioProbeError) {
        throw new DownloadError({ code: "download_not_audio", retryable: false, host, message: `the file could not be measured as audio: ${cause.message}`, cause });
      }
      throw failed(`could not read the downloaded file: ${(cause as Error).message}`, { cause });
    }
    return { bytes, sha256, format: probe.format, contentType: probe.contentType, durationSeconds: probe.durationSeconds, sampleRate: probe.sampleRate, channels: probe.channels };
  } catch (cause) {
    await rm(options.destPath, { force: true }).catch(() => {});
    throw explain(cause);
  } finally {
    clearTimeout(connectTimer);
    clearTimeout(totalTimer);
  }
}
