import type { IngestItem, RowError } from "@acebatch/batch-input";
import type { Metadata } from "@acebatch/contracts";
import { batchRowOrder } from "@acebatch/queue";

/**
 * A row of an upload that got no job: rejected (invalid, or its source audio is unusable) or a
 * duplicate of an earlier row. Kept with the batch so its results still have one line per row.
 */
export interface RowWithoutJob {
  row: number;
  /** Null for a row rejected before its variations were expanded. */
  variation: number | null;
  status: "rejected" | "duplicate";
  /** The row's model as written (null when it named none and the batch has no default). */
  model: string | null;
  /** The row's inputs and metadata as far as they were read (cells as written for an invalid row). */
  input: Record<string, unknown>;
  metadata: Metadata;
  errorCode: "invalid_row" | "duplicate_row";
  errorMessage: string;
}

/** Longest error message kept for one row (a row can have an error in each of its cells). */
const MAX_MESSAGE = 2_000;

function describeErrors(errors: readonly RowError[]): string {
  const text = errors.map((e) => (e.column ? `${e.column}: ${e.message}` : e.message)).join("; ");
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
}

/** An invalid row: every problem, each naming its column. */
export function invalidRow(item: Extract<IngestItem, { kind: "invalid" }>): RowWithoutJob {
  return {
    row: item.row,
    variation: null,
    status: "rejected",
    model: item.raw?.model ?? null,
    input: item.raw?.input ?? {},
    metadata: item.raw?.metadata ?? {},
    errorCode: "invalid_row",
    errorMessage: describeErrors(item.errors),
  };
}

/** A valid row's job that could not be priced because its source cannot be used. */
export function unpriceableRow(job: Extract<IngestItem, { kind: "job" }>, error: RowError): RowWithoutJob {
  return { row: job.row, variation: job.variation, status: "rejected", model: job.model, input: job.input, metadata: job.metadata, errorCode: "invalid_row", errorMessage: describeErrors([error]) };
}

/** A job not created because an identical fixed-seed job comes earlier in the upload. */
export function duplicateRow(item: Extract<IngestItem, { kind: "duplicate" }>): RowWithoutJob {
  const of = item.duplicateOf;
  return {
    row: item.row,
    variation: item.variation,
    status: "duplicate",
    model: item.model,
    input: item.input,
    metadata: item.metadata,
    errorCode: "duplicate_row",
    errorMessage: `same model, input and fixed seed as row ${of.row}${of.variation > 1 ? ` (variation ${of.variation})` : ""}: not run twice; that row's job makes this audio`,
  };
}

/** A staged entry: its place in row order and a compact JSON array. */
export function encodeRowWithoutJob(r: RowWithoutJob): { order: number; member: string } {
  return {
    order: batchRowOrder(r.row, r.variation ?? 0),
    member: JSON.stringify([r.row, r.variation, r.status, r.model, r.input, r.metadata, r.errorCode, r.errorMessage]),
  };
}

export function decodeRowWithoutJob(member: string): RowWithoutJob {
  const [row, variation, status, model, input, metadata, errorCode, errorMessage] = JSON.parse(member) as [
    number,
    number | null,
    RowWithoutJob["status"],
    string | null,
    Record<string, unknown>,
    Metadata,
    RowWithoutJob["errorCode"],
    string,
  ];
  return { row, variation, status, model, input, metadata, errorCode, errorMessage };
}
