import type { JobError } from "@acebatch/contracts";
import { DownloadError, ProviderError } from "@acebatch/provider";

/** A failure the processor decided on itself (not from the provider), with a stable code. */
export class JobFailure extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly exitClass: JobError["exit_class"];
  constructor(code: string, message: string, options: { retryable?: boolean; exitClass?: JobError["exit_class"] } = {}) {
    super(message);
    this.name = "JobFailure";
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.exitClass = options.exitClass ?? null;
  }
}

/** The job's `error` block for any thrown value: provider classes keep their exit class. */
export function toJobError(err: unknown): JobError {
  if (err instanceof ProviderError) {
    return { code: err.code, exit_class: err.exitClass, retryable: err.retryable, message: err.message };
  }
  if (err instanceof DownloadError) {
    return { code: err.code, exit_class: null, retryable: err.retryable, message: err.message };
  }
  if (err instanceof JobFailure) {
    return { code: err.code, exit_class: err.exitClass, retryable: err.retryable, message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: "internal", exit_class: null, retryable: true, message };
}
