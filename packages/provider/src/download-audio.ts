import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { pipeline } from "node:stream/promises";

import { AUDIO_CONTENT_TYPES, AudioProbeError, createWavMeter, probeAudioFile, type AudioFormat, type WaveformPeaks } from "@acebatch/audio";

import { createDownloadGuard } from "./download-guard.ts";
import { DownloadError } from "./download-error.ts";

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** Redirects followed before giving up (fetch's limit). */
const MAX_REDIRECTS = 20;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const ACCEPT = "audio/*, application/octet-stream;q=0.9, */*;q=0.5";

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
  /** Columns of waveform peaks to fold from a 16-bit PCM WAV as it arrives (absent: none). */
  waveformColumns?: number;
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
  /** Waveform peaks folded during the download; null unless asked for and the file is 16-bit PCM WAV. */
  peaks: WaveformPeaks | null;
}

type Timeout = "connect" | "idle" | "total";

function parseUrl(url: string, base?: URL): URL {
  const parsed = URL.canParse(url, base?.href) ? new URL(url, base) : null;
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    const shown = parsed ? `${parsed.protocol} URL` : "an unparseable URL";
    throw new DownloadError({ code: "download_failed", retryable: false, host: parsed?.host ?? "", message: `only http(s) URLs are downloaded, got ${shown}` });
  }
  return parsed;
}

/** One GET, resolved with the response head (its body not read yet). */
function get(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    // Deliberately no Authorization header: the provider token never leaves the API host. No
    // Accept-Encoding either: the bytes stored are the bytes sent.
    const req = send(url, { method: "GET", headers: { accept: ACCEPT }, signal }, resolve);
    // Errors after the response head reach the body stream (and the pipeline reading it); this
    // listener only settles the promise and keeps a late request error from going unhandled.
    req.on("error", reject);
    req.end();
  });
}

/** The final response after following redirects (each to an http(s) URL; at most MAX_REDIRECTS). */
async function getFollowingRedirects(url: URL, signal: AbortSignal, failed: (message: string) => DownloadError): Promise<IncomingMessage> {
  for (let redirects = 0; ; redirects++) {
    const res = await get(url, signal);
    const location = res.headers.location;
    if (!REDIRECT_STATUSES.has(res.statusCode ?? 0) || location === undefined) return res;
    res.destroy();
    if (redirects === MAX_REDIRECTS) throw failed(`more than ${MAX_REDIRECTS} redirects`);
    url = parseUrl(location, url);
  }
}

/**
 * Stream provider output to `destPath` (never whole in memory), without any Authorization header,
 * refusing bodies over `maxBytes` or that are not audio, then measure the file. Throws
 * `DownloadError`; the partial file is deleted on every failure.
 *
 * Plain `node:http(s)` rather than `fetch`: the response body's chunks are the socket's own
 * buffers, passed through the guard to the file. `fetch` copies every chunk into a new
 * ArrayBuffer and wraps it in web-stream promises; at dozens of 46 MB downloads at once that was
 * hundreds of MB a second of garbage held until V8's next GC, most of a worker's resident memory.
 */
export async function downloadAudio(options: DownloadAudioOptions): Promise<DownloadedAudio> {
  const url = parseUrl(options.url);
  const host = url.host;
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0) throw new TypeError("downloadAudio: maxBytes must be a positive integer");
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;

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
    let response: IncomingMessage;
    try {
      response = await getFollowingRedirects(url, signal, failed);
    } finally {
      clearTimeout(connectTimer);
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      response.destroy();
      throw failed(`HTTP ${status}${status === 403 || status === 404 || status === 410 ? " (the result URL may have expired)" : ""}`, { httpStatus: status });
    }
    const declared = Number(response.headers["content-length"] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      response.destroy();
      throw new DownloadError({ code: "download_too_large", retryable: false, host, message: `Content-Length ${declared} exceeds the ${options.maxBytes}-byte limit` });
    }

    // A 16-bit PCM WAV (what the provider sends) is measured and its peaks folded as it passes,
    // so it is never read back; anything else is measured on disk once it is complete.
    const meter = options.waveformColumns === undefined ? null : createWavMeter(options.waveformColumns);
    const guard = createDownloadGuard({ host, maxBytes: options.maxBytes, idleTimeoutMs, onIdle: () => trip("idle"), onChunk: meter?.push });
    await pipeline(response, guard.stream, createWriteStream(options.destPath), { signal });
    const { bytes, sha256 } = guard.summary();
    const metered = meter?.finish(bytes);
    let probe: Pick<DownloadedAudio, "format" | "contentType" | "durationSeconds" | "sampleRate" | "channels">;
    if (metered) {
      probe = { format: "wav", contentType: AUDIO_CONTENT_TYPES.wav, ...metered.info };
    } else {
      try {
        probe = await probeAudioFile(options.destPath);
      } catch (cause) {
        if (cause instanceof AudioProbeError) {
          throw new DownloadError({ code: "download_not_audio", retryable: false, host, message: `the file could not be measured as audio: ${cause.message}`, cause });
        }
        throw failed(`could not read the downloaded file: ${(cause as Error).message}`, { cause });
      }
    }
    const { format, contentType, durationSeconds, sampleRate, channels } = probe;
    return { bytes, sha256, format, contentType, durationSeconds, sampleRate, channels, peaks: metered?.peaks ?? null };
  } catch (cause) {
    await rm(options.destPath, { force: true }).catch(() => {});
    throw explain(cause);
  } finally {
    clearTimeout(connectTimer);
    clearTimeout(totalTimer);
  }
}
