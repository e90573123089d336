/** Stable codes of finishing failures, for job errors and logs. */
export type FinishErrorCode =
  /** ffmpeg/ffprobe is not installed or lacks a filter/encoder we need. */
  | "ffmpeg_missing"
  /** ffmpeg exited non-zero (its stderr tail is in the message). */
  | "ffmpeg_failed"
  /** ffmpeg ran past its time limit and was killed. */
  | "ffmpeg_timeout"
  /** The input cannot be finished as asked (too short for the loop, silent, fades too long …). */
  | "unfinishable_input"
  /** An encoded rendition did not decode back to the finished duration. */
  | "verification_failed";

/** A finishing failure; `retryable` says whether running the same finish again may succeed. */
export class FinishError extends Error {
  readonly code: FinishErrorCode;
  readonly retryable: boolean;

  constructor(code: FinishErrorCode, message: string, options?: ErrorOptions & { retryable?: boolean }) {
    super(message, options);
    this.name = "FinishError";
    this.code = code;
    this.retryable = options?.retryable ?? (code === "ffmpeg_failed" || code === "ffmpeg_timeout");
  }
}
