import type { ErrorDetail } from "@acebatch/contracts";

/**
 * The `runcomfy` CLI's exit codes (sysexits-style), which scripts branch on. The set is closed:
 * anything that is not one of the named classes exits 1.
 */
export const EXIT = {
  ok: 0,
  /** Anything else, including a job or batch that ended failed/cancelled under `--wait`. */
  failure: 1,
  /** Bad command line: unknown command or flag, missing argument, bad flag value. */
  usage: 64,
  /** The input was rejected: client-side schema validation, or HTTP 4xx other than 401/403/408/429. */
  dataErr: 65,
  /** Upstream unavailable: HTTP 5xx, or the API cannot be reached. */
  unavailable: 69,
  /** Temporary: HTTP 408/429 or a timeout; retrying later may work. */
  tempFail: 75,
  /** Not permitted: no key, HTTP 401/403. */
  noPerm: 77,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Exit class of an HTTP error status, exactly as the `runcomfy` CLI classifies it. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.noPerm;
  if (status === 408 || status === 429) return EXIT.tempFail;
  if (status >= 500 && status < 600) return EXIT.unavailable;
  if (status >= 400 && status < 500) return EXIT.dataErr;
  return EXIT.failure;
}

export interface CliErrorOptions {
  /** A stable machine code (`invalid_input`, `api_unreachable`, or the API's own `error.code`). */
  code?: string;
  details?: ErrorDetail[];
  /** HTTP status when the error came from an API answer. */
  status?: number;
  /** The API's error body verbatim, printed as is under `--json`. */
  body?: unknown;
  /** Extra lines of explanation for humans (hints, row errors). */
  hints?: string[];
  /** Seconds the API asked us to wait (Retry-After on 429/503). */
  retryAfterSeconds?: number;
}

/** An error that ends the command with a specific exit code and a message for the user. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly code: string;
  readonly details: ErrorDetail[] | undefined;
  readonly status: number | undefined;
  readonly body: unknown;
  readonly hints: string[];
  readonly retryAfterSeconds: number | undefined;
  constructor(exitCode: ExitCode, message: string, options: CliErrorOptions = {}) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.code = options.code ?? defaultCode(exitCode);
    this.details = options.details;
    this.status = options.status;
    this.body = options.body;
    this.hints = options.hints ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

function defaultCode(exitCode: ExitCode): string {
  switch (exitCode) {
    case EXIT.usage:
      return "usage";
    case EXIT.dataErr:
      return "invalid_input";
    case EXIT.unavailable:
      return "unavailable";
    case EXIT.tempFail:
      return "temporary_failure";
    case EXIT.noPerm:
      return "not_permitted";
    default:
      return "failed";
  }
}

export const usageError = (message: string, hints: string[] = []) => new CliError(EXIT.usage, message, { code: "usage", hints });
