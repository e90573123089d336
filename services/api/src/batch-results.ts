import { microUsdToUsd } from "@acebatch/contracts";
import { batchJobRef, batchRowOrder, type BatchRecord, type BatchStore, type JobRecord, type JobStore } from "@acebatch/queue";
import type { UrlSigner } from "@acebatch/storage";
import { decodeRowWithoutJob, type RowWithoutJob } from "./batch-rows-without-job.ts";

/**
 * One line of a batch's results: the row's inputs and metadata, and what became of its job. A row
 * that got no job (status `rejected` or `duplicate`) has a null `job_id` and says why in `error_*`.
 */
export interface ResultRow {
  row: number;
  /** Null for a row rejected before its variations were expanded. */
  variation: number | null;
  job_id: string | null;
  status: string;
  model: string | null;
  input: Record<string, unknown>;
  metadata: Record<string, unknown>;
  cost_usd: number | null;
  audio_url: string | null;
  error_code: string | null;
  error_message: string | null;
  output_seed: number | null;
  output_duration_seconds: number | null;
}

export interface ResultDeps {
  store: JobStore;
  batches: BatchStore;
  publicBaseUrl: string;
  signer: UrlSigner;
  /** Lifetime of the signed audio links in results, seconds (a results sheet is opened outside the API). */
  audioUrlTtlSeconds: number;
}

const PAGE = 500;

export function toResultRow(rec: JobRecord, deps: Pick<ResultDeps, "publicBaseUrl" | "signer" | "audioUrlTtlSeconds">, ordinal: number): ResultRow {
  const ref = batchJobRef(rec.id) ?? { row: ordinal, variation: 1 };
  return {
    row: ref.row,
    variation: ref.variation,
    job_id: rec.id,
    status: rec.status,
    model: rec.model,
    input: rec.input,
    metadata: rec.metadata,
    cost_usd: rec.cost_micro_usd === null ? null : microUsdToUsd(rec.cost_micro_usd),
    audio_url: rec.output ? deps.signer.sign(deps.publicBaseUrl, `/v1/jobs/${rec.id}/audio`, deps.audioUrlTtlSeconds) : null,
    error_code: rec.error?.code ?? null,
    error_message: rec.error?.message ?? null,
    output_seed: rec.output?.seed ?? null,
    output_duration_seconds: rec.output?.duration_seconds ?? null,
  };
}

export function rowWithoutJobResult(r: RowWithoutJob): ResultRow {
  return {
    row: r.row,
    variation: r.variation,
    job_id: null,
    status: r.status,
    model: r.model,
    input: r.input,
    metadata: r.metadata,
    cost_usd: null,
    audio_url: null,
    error_code: r.errorCode,
    error_message: r.errorMessage,
    output_seed: null,
    output_duration_seconds: null,
  };
}

/**
 * Every job of a batch in row order, read page by page (the next page is fetched while the
 * current one is consumed), so results of any size stream in bounded memory. Works while the
 * batch runs: each row shows the state its job is in when its page is read.
 */
export async function* batchJobs(deps: Pick<ResultDeps, "store" | "batches">, batchId: string): AsyncGenerator<JobRecord> {
  const fetchPage = async (after: string | null) => {
    const ids = await deps.batches.jobIds(batchId, PAGE, after);
    return { ids, records: await deps.store.getMany(ids) };
  };
  let next = fetchPage(null);
  for (;;) {
    const { ids, records } = await next;
    if (ids.length === 0) return;
    if (ids.length === PAGE) next = fetchPage(ids.at(-1)!);
    for (const rec of records) if (rec) yield rec;
    if (ids.length < PAGE) return;
  }
}

/** A batch's rows that got no job, in row order, page by page like `batchJobs`. */
export async function* batchRowsWithoutJob(deps: Pick<ResultDeps, "batches">, batchId: string): AsyncGenerator<{ order: number; row: RowWithoutJob }> {
  let next = deps.batches.rowsWithoutJob(batchId, PAGE);
  for (;;) {
    const page = await next;
    if (page.length === 0) return;
    if (page.length === PAGE) next = deps.batches.rowsWithoutJob(batchId, PAGE, page.at(-1)!.order);
    for (const entry of page) yield { order: entry.order, row: decodeRowWithoutJob(entry.member) };
    if (page.length < PAGE) return;
  }
}

export type BatchLine = { kind: "job"; record: JobRecord } | { kind: "no-job"; row: RowWithoutJob };

/**
 * Every row of a batch in row order: its jobs, merged with the rows that got none (rejected,
 * duplicate). Both are read a page at a time, so memory stays bounded whatever the batch's size.
 */
export async function* batchLines(deps: Pick<ResultDeps, "store" | "batches">, batchId: string): AsyncGenerator<BatchLine> {
  const others = batchRowsWithoutJob(deps, batchId);
  try {
    let other = await others.next();
    for await (const record of batchJobs(deps, batchId)) {
      const ref = batchJobRef(record.id);
      const order = ref ? batchRowOrder(ref.row, ref.variation) : -1;
      for (; !other.done && other.value.order < order; other = await others.next()) yield { kind: "no-job", row: other.value.row };
      yield { kind: "job", record };
    }
    for (; !other.done; other = await others.next()) yield { kind: "no-job", row: other.value.row };
  } finally {
    await others.return(undefined);
  }
}

export async function* resultRows(deps: ResultDeps, batchId: string): AsyncGenerator<ResultRow> {
  let ordinal = 0;
  for await (const line of batchLines(deps, batchId)) {
    yield line.kind === "job" ? toResultRow(line.record, deps, ++ordinal) : rowWithoutJobResult(line.row);
  }
}

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** One CSV cell: quoted when it holds a delimiter, quote, newline or edge whitespace. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const FIXED_BEFORE = ["row", "job_id", "status", "model"];
const FIXED_AFTER = ["cost_usd", "audio_url", "error_code", "error_message", "output_seed", "output_duration_seconds"];

/** Results CSV columns: fixed ones, the batch's input fields, then its metadata columns (renamed `metadata.<name>` if they clash). */
export function resultColumns(batch: Pick<BatchRecord, "input_columns" | "metadata_columns" | "has_variations">) {
  const before = batch.has_variations ? ["row", "variation", ...FIXED_BEFORE.slice(1)] : FIXED_BEFORE;
  const taken = new Set([...before, ...batch.input_columns, ...FIXED_AFTER]);
  const metadata = batch.metadata_columns.map((name) => ({ name, header: taken.has(name) ? `metadata.${name}` : name }));
  return { before, input: batch.input_columns, metadata, after: FIXED_AFTER };
}

/** A CSV writer for one batch's results: the header line and each row's line (both end in a newline). */
export function resultsCsvFormat(batch: Pick<BatchRecord, "input_columns" | "metadata_columns" | "has_variations">) {
  const cols = resultColumns(batch);
  const join = (cells: unknown[]) => `${cells.map(csvCell).join(",")}\n`;
  return {
    header: join([...cols.before, ...cols.input, ...cols.metadata.map((m) => m.header), ...cols.after]),
    line(r: ResultRow): string {
      const fixed = r as unknown as Record<string, unknown>;
      return join([
        ...cols.before.map((c) => fixed[c]),
        ...cols.input.map((c) => r.input[c]),
        ...cols.metadata.map((m) => r.metadata[m.name]),
        ...cols.after.map((c) => fixed[c]),
      ]);
    },
  };
}

/** The results as CSV text, a header line then one line per row. */
export async function* resultsCsv(deps: ResultDeps, batch: BatchRecord, options: { bom?: boolean } = {}): AsyncGenerator<string> {
  const format = resultsCsvFormat(batch);
  yield `${options.bom ? "\uFEFF" : ""}${format.header}`;
  let lines = "";
  let n = 0;
  for await (const r of resultRows(deps, batch.id)) {
    lines += format.line(r);
    if (++n % 100 === 0) {
      yield lines;
      lines = "";
    }
  }
  if (lines) yield lines;
}

/** The results as JSON Lines, one object per row. */
export async function* resultsJsonl(deps: ResultDeps, batch: BatchRecord): AsyncGenerator<string> {
  let lines: string[] = [];
  for await (const r of resultRows(deps, batch.id)) {
    lines.push(JSON.stringify(r));
    if (lines.length === 100) {
      yield `${lines.join("\n")}\n`;
      lines = [];
    }
  }
  if (lines.length > 0) yield `${lines.join("\n")}\n`;
}
