import type { JobErrorCode } from "@acebatch/contracts";

export type DownloadErrorCode = Extract<JobErrorCode, "download_failed" | "download_not_audio" | "download_too_large">;

export interface DownloadErrorInit {
  code: DownloadErrorCode;
  retryable: boolean;
  /** Host of the URL being downloaded (never the full URL: CDN URLs may be signed). */
  host: string;
  message: string;
  httpStatus?: number | null;
  cause?: unknown;
}

/**
 * A download of provider output that did not produce a usable audio file. The partial file has
 * already been deleted when this is thrown.
 * - `download_failed` (network, timeout, HTTP error): retryable; a 403/404/410 usually means the
 *   result URL expired, and fetching the result again gives a fresh one;
 * - `download_not_audio`, `download_too_large`: not retryable, the same URL gives the same bytes.
 */
export class DownloadError extends Error {
  readonly code: DownloadErrorCode;
  readonly retryable: boolean;
  readonly host: string;
  readonly httpStatus: number | null;

  constructor(init: DownloadErrorInit) {
    super(`download from ${init.host || "(no host)"} failed: ${init.message}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "DownloadError";
    this.code = init.code;
    this.retryable = init.retryable;
    this.host = init.host;
    this.httpStatus = init.httpStatus ?? null;
  }
}
