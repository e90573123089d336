/** One problem with one row: `row` counts data rows from 1 (the header is not a row). */
export interface RowError {
  row: number;
  /** The column (CSV header field, or `input.<field>` for NDJSON) at fault; null for the row as a whole. */
  column: string | null;
  message: string;
}

export type BatchInputErrorCode = "malformed_file" | "file_too_large" | "too_many_rows" | "empty_file";

/**
 * The upload as a whole cannot be used: a malformed file (400) or a limit exceeded (413). The
 * message says what is wrong and what to do; it never quotes more than a few characters of input.
 */
export class BatchInputError extends Error {
  readonly code: BatchInputErrorCode;
  readonly statusCode: 400 | 413;
  constructor(code: BatchInputErrorCode, message: string) {
    super(message);
    this.name = "BatchInputError";
    this.code = code;
    this.statusCode = code === "file_too_large" || code === "too_many_rows" ? 413 : 400;
  }
}

/** A short, printable excerpt of untrusted text for an error message. */
export function excerpt(text: string, max = 40): string {
  const flat = text.replace(/[\r\n\t]+/g, " ");
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}…` : flat);
}
