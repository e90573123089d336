/** Why a source track's length could not be learned. */
export type SourceLengthFailure =
  | "bad_url"
  | "refused_host"
  | "fetch_failed"
  | "http_status"
  | "too_many_redirects"
  | "too_large"
  | "timeout"
  | "not_audio"
  | "duration_unknown";

/**
 * HTTP answers that say only that this request was refused or could not be served now, not that
 * the file is unusable: an auth wall or a CDN turning away our host (another client, such as the
 * provider, may be let in), a rate limit, a timeout. 5xx are added by isTransientSourceFailure.
 */
const TRANSIENT_HTTP_STATUSES: ReadonlySet<number> = new Set([401, 403, 407, 408, 425, 429]);

/** Longest source track the provider takes for inpaint/outpaint (60 minutes), in seconds. */
export const MAX_SOURCE_SECONDS = 3_600;

/** The length of a source track could not be learned; the message says why, fit for a job's `error`. */
export class SourceLengthError extends Error {
  readonly code = "source_length_unknown";
  readonly reason: SourceLengthFailure;
  /** The status the source answered with (reason `http_status`), else null. */
  readonly httpStatus: number | null;
  constructor(reason: SourceLengthFailure, message: string, options?: ErrorOptions & { httpStatus?: number }) {
    super(message, options);
    this.name = "SourceLengthError";
    this.reason = reason;
    this.httpStatus = options?.httpStatus ?? null;
  }

  /** See isTransientSourceFailure. */
  get transient(): boolean {
    return isTransientSourceFailure(this);
  }
}

/**
 * The one classification of probe failures, for the API (a batch row stays valid but unpriced)
 * and the worker (the job is retried). Transient: a network or DNS error, a timeout, a 5xx, or an
 * answer that only refuses this host (401, 403, 407, 408, 425, 429) — trying again later, or from
 * the provider, may work. Anything else shows the source unusable as given and is final: a bad or
 * refused URL (SSRF guard), 404 and other 4xx, a redirect loop, a file that is not audio, whose
 * length cannot be read, or that is too large to measure.
 */
export function isTransientSourceFailure(err: SourceLengthError): boolean {
  switch (err.reason) {
    case "fetch_failed":
    case "timeout":
      return true;
    case "http_status":
      return err.httpStatus !== null && (err.httpStatus >= 500 || TRANSIENT_HTTP_STATUSES.has(err.httpStatus));
    default:
      return false;
  }
}

/** Why a measured source cannot be used, or null when its length is within what the provider takes. */
export function sourceLengthProblem(seconds: number): string | null {
  if (seconds <= MAX_SOURCE_SECONDS) return null;
  return `the source audio is ${(seconds / 60).toFixed(1)} minutes long; the provider takes at most ${MAX_SOURCE_SECONDS / 60} minutes`;
}
