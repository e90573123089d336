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

/** The length of a source track could not be learned; the message says why, fit for a job's `error`. */
export class SourceLengthError extends Error {
  readonly code = "source_length_unknown";
  readonly reason: SourceLengthFailure;
  constructor(reason: SourceLengthFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SourceLengthError";
    this.reason = reason;
  }
}
