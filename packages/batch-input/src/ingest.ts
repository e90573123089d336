import type { Metadata, ModelId } from "@acebatch/contracts";
import { countCombos, duplicateAxis, expandAxes, type TagCombosRequest } from "./axes.ts";
import { openCsv } from "./csv-reader.ts";
import { createDuplicateDetector, type RowRef } from "./duplicates.ts";
import { BatchInputError, type RowError } from "./errors.ts";
import { orderInputFields, type InputField } from "./fields.ts";
import { mapHeader } from "./header.ts";
import { tooManyRows } from "./limits.ts";
import { readNdjsonLines } from "./ndjson-reader.ts";
import { checkInput, checkVariations, validateCsvRow, validateJsonRow, type BatchRow, type RawRow, type RowResult } from "./row.ts";
import { expandVariations } from "./variations.ts";

/** One outcome of reading an upload, in row order. */
export type IngestItem =
  | { kind: "job"; row: number; variation: number; model: ModelId; input: Record<string, unknown>; metadata: Metadata }
  | { kind: "invalid"; row: number; errors: RowError[]; raw: RawRow | null }
  | { kind: "duplicate"; row: number; variation: number; duplicateOf: RowRef; model: ModelId; input: Record<string, unknown>; metadata: Metadata };

export interface IngestOptions {
  /** Model for rows that do not name one (`?model=`). */
  defaultModel?: ModelId;
  /** Most rows (jobs after variations, plus invalid rows) before the upload is refused with a 413. */
  maxRows: number;
}

/** What the results of a batch should show as columns. */
export interface BatchColumns {
  /** Provider input fields, in canonical order. */
  input: InputField[];
  /** Metadata columns in the order they first appeared. */
  metadata: string[];
  /** Whether any row asked for more than one variation. */
  variations: boolean;
}

export interface Ingest {
  items: AsyncGenerator<IngestItem>;
  /** The columns seen so far; complete once `items` is exhausted. */
  columns(): BatchColumns;
}

/** NDJSON rows may each bring their own metadata keys; results show at most this many as columns. */
const MAX_METADATA_COLUMNS = 200;

function createCollector(options: IngestOptions, metadataColumns: string[] = []) {
  const duplicates = createDuplicateDetector();
  const inputFields = new Set<string>();
  const metadata = new Set(metadataColumns);
  let variations = false;
  let count = 0;
  const bump = () => {
    if (++count > options.maxRows) throw tooManyRows(options.maxRows);
  };
  return {
    columns: (): BatchColumns => ({ input: orderInputFields(inputFields), metadata: [...metadata], variations }),
    addInputFields(fields: Iterable<string>) {
      for (const f of fields) inputFields.add(f);
    },
    *expand(result: RowResult): Generator<IngestItem> {
      if (!result.ok) {
        bump();
        yield { kind: "invalid", row: result.errors[0]?.row ?? 0, errors: result.errors, raw: result.raw ?? null };
        return;
      }
      const row: BatchRow = result.value;
      if (row.variations > 1) variations = true;
      for (const key of Object.keys(row.input)) inputFields.add(key);
      for (const key of Object.keys(row.metadata)) if (metadata.size < MAX_METADATA_COLUMNS) metadata.add(key);
      for (const { variation, input } of expandVariations(row.input, row.variations)) {
        bump();
        const first = duplicates.check(row.model, input, { row: row.row, variation });
        if (first) yield { kind: "duplicate", row: row.row, variation, duplicateOf: first, model: row.model, input, metadata: row.metadata };
        else yield { kind: "job", row: row.row, variation, model: row.model, input, metadata: row.metadata };
      }
    },
  };
}

/**
 * Read a CSV upload row by row: header matched case- and space-insensitively, each row validated
 * against its model's schema, `variations` expanded, exact fixed-seed duplicates reported.
 */
export async function ingestCsv(source: AsyncIterable<Buffer>, options: IngestOptions): Promise<Ingest> {
  const table = await openCsv(source);
  let columns;
  try {
    columns = mapHeader(table.header);
    if (columns.model === null && !options.defaultModel) {
      throw new BatchInputError("malformed_file", "no model: pass ?model=<model id> for the whole batch or add a model column");
    }
  } catch (err) {
    await table.rows.return(undefined);
    throw err;
  }
  const collector = createCollector(options, columns.metadata.map((m) => m.name));
  collector.addInputFields(columns.inputs.map((c) => c.field));
  const decimalComma = table.delimiter !== ",";
  const cols = columns;
  async function* items(): AsyncGenerator<IngestItem> {
    for await (const { row, cells } of table.rows) {
      yield* collector.expand(validateCsvRow(row, cells, cols, { defaultModel: options.defaultModel, decimalComma }));
    }
  }
  return { items: items(), columns: collector.columns };
}

/** Read an NDJSON upload: one `{"model"?, "input", "metadata"?, "variations"?}` per line. */
export function ingestNdjson(source: AsyncIterable<Buffer>, options: IngestOptions): Ingest {
  const collector = createCollector(options);
  async function* items(): AsyncGenerator<IngestItem> {
    for await (const { row, line } of readNdjsonLines(source)) {
      yield* collector.expand(validateJsonRow(row, line, { defaultModel: options.defaultModel }));
    }
  }
  return { items: items(), columns: collector.columns };
}

/**
 * Expand a tag-combination request. The template (everything but the axes) is checked once up
 * front, so a bad `input.duration` is one error, not one per row.
 */
export function ingestCombos(request: TagCombosRequest, model: ModelId, options: IngestOptions): Ingest {
  const duplicate = duplicateAxis(request.axes);
  if (duplicate) throw new BatchInputError("malformed_file", duplicate);
  const rows = countCombos(request.axes);
  if (rows * request.variations > options.maxRows) throw tooManyRows(options.maxRows);
  const first = expandAxes(request).next().value!;
  const template = checkInput(1, model, first.input, (f) => (Object.hasOwn(request.axes, f) ? `axes.${f}` : `input.${f}`), (f) => `unknown field "${f}" for ${model}`);
  // Errors that depend on axis values (or on tags composed from them) are reported per row below.
  const templateErrors = template.ok ? [] : template.errors.filter((e) => e.column?.startsWith("input.") && e.column !== "input.tags");
  if (templateErrors.length > 0) {
    throw new BatchInputError("malformed_file", `the request's input is invalid: ${templateErrors.map((e) => `${e.column}: ${e.message}`).join("; ")}`);
  }
  if (template.ok && !Object.hasOwn(request.axes, "seed")) {
    const seedError = checkVariations(1, request.variations, template.input.seed, "variations");
    if (seedError) throw new BatchInputError("malformed_file", seedError.message);
  }

  const collector = createCollector(options, Object.keys(request.metadata ?? {}).concat(Object.keys(request.axes)));
  async function* items(): AsyncGenerator<IngestItem> {
    for (const combo of expandAxes(request)) {
      const checked = checkInput(combo.row, model, combo.input, (f) => f, (f) => `unknown field "${f}" for ${model}`);
      const seedError = checked.ok ? checkVariations(combo.row, request.variations, checked.input.seed, "variations") : null;
      const raw = { model, input: combo.input, metadata: combo.metadata };
      const result: RowResult = !checked.ok
        ? { ok: false, errors: checked.errors, raw }
        : seedError
          ? { ok: false, errors: [seedError], raw }
          : { ok: true, value: { row: combo.row, model, input: checked.input, metadata: combo.metadata, variations: request.variations } };
      yield* collector.expand(result);
    }
  }
  return { items: items(), columns: collector.columns };
}
