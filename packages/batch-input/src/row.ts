import { expandIssue, isModelId, MAX_SEED, metadataSchema, MODEL_IDS, parseModelInput, type Metadata, type ModelId } from "@acebatch/contracts";
import { convertCell } from "./cells.ts";
import { excerpt, type RowError } from "./errors.ts";
import { INPUT_FIELD_KINDS, MAX_VARIATIONS } from "./fields.ts";
import type { CsvColumns } from "./header.ts";

/** A valid row: the provider input with defaults applied, its metadata, and how many seed variations it asks for. */
export interface BatchRow {
  row: number;
  model: ModelId;
  input: Record<string, unknown>;
  metadata: Metadata;
  variations: number;
}

/** What an invalid row held, as written (CSV cells as text), so its results line can show it. */
export interface RawRow {
  /** The row's model (its cell, else the batch default); null when neither names one. */
  model: string | null;
  input: Record<string, unknown>;
  metadata: Metadata;
}

export type RowResult = { ok: true; value: BatchRow } | { ok: false; errors: RowError[]; raw?: RawRow };

const MAX_METADATA_VALUE = 2_000;

/** Resolve a row's model: its own cell, else the batch default. */
export function resolveModel(value: unknown, defaultModel: ModelId | undefined): { ok: true; model: ModelId } | { ok: false; message: string } {
  if (value === undefined || value === null || (typeof value === "string" && value.trim() === "")) {
    if (defaultModel) return { ok: true, model: defaultModel };
    return { ok: false, message: "no model for this row: fill the model column or pass ?model= for the whole batch" };
  }
  const model = typeof value === "string" ? value.trim() : value;
  if (isModelId(model)) return { ok: true, model };
  return { ok: false, message: `unknown model ${excerpt(String(model), 60)}: use one of ${MODEL_IDS.join(", ")}` };
}

/**
 * Validate a provider input for `model` exactly as POST /v1/jobs does, naming each bad field by
 * `columnOf(field)`. Fields the model does not take are reported with `notUsed`.
 */
export function checkInput(
  row: number,
  model: ModelId,
  input: Record<string, unknown>,
  columnOf: (field: string) => string,
  notUsed: (field: string) => string,
): { ok: true; input: Record<string, unknown> } | { ok: false; errors: RowError[] } {
  const parsed = parseModelInput(model, input);
  if (parsed.success) return { ok: true, input: parsed.data as Record<string, unknown> };
  const errors = parsed.error.issues.flatMap((issue) => {
    const unknownKeys = issue.code === "unrecognized_keys";
    return expandIssue(issue).map((e) => {
      const field = e.path.length > 0 ? String(e.path[0]) : null;
      return {
        row,
        column: field === null ? null : columnOf(field),
        message: unknownKeys && field !== null ? notUsed(field) : e.message,
      };
    });
  });
  return { ok: false, errors };
}

/** Check a `variations` count against a fixed seed: seed, seed+1, … must all stay valid seeds. */
export function checkVariations(row: number, variations: number, seed: unknown, column: string): RowError | null {
  if (!Number.isInteger(variations) || variations < 1 || variations > MAX_VARIATIONS) {
    return { row, column, message: `variations must be a whole number from 1 to ${MAX_VARIATIONS}, got ${excerpt(String(variations))}` };
  }
  if (typeof seed === "number" && seed !== -1 && seed + variations - 1 > MAX_SEED) {
    return { row, column, message: `seed ${seed} with ${variations} variations would pass the largest seed ${MAX_SEED}; use a smaller seed` };
  }
  return null;
}

/**
 * Validate one CSV data row. Empty cells are absent (the provider default applies); every bad
 * cell is reported, by its column's canonical name.
 */
export function validateCsvRow(
  row: number,
  cells: readonly string[],
  columns: CsvColumns,
  options: { defaultModel?: ModelId; decimalComma: boolean },
): RowResult {
  const errors: RowError[] = [];
  const cell = (index: number | null) => (index === null ? "" : (cells[index] ?? ""));

  for (let i = columns.width; i < cells.length; i++) {
    if (cells[i]!.trim() !== "") {
      errors.push({ row, column: null, message: `the row has ${cells.length} cells but the header names ${columns.width} columns` });
      break;
    }
  }
  for (const index of columns.unnamed) {
    if (cell(index).trim() !== "") errors.push({ row, column: `column ${index + 1}`, message: "this cell has a value but its column has no header name" });
  }

  const model = resolveModel(cell(columns.model), options.defaultModel);
  if (!model.ok) errors.push({ row, column: "model", message: model.message });

  const input: Record<string, unknown> = {};
  for (const { index, field } of columns.inputs) {
    const raw = cell(index);
    if (raw.trim() === "") continue;
    const converted = convertCell(field, raw, INPUT_FIELD_KINDS[field], options.decimalComma);
    if (converted.ok) input[field] = converted.value;
    else errors.push({ row, column: field, message: converted.message });
  }

  let variations = 1;
  const rawVariations = cell(columns.variations);
  if (rawVariations.trim() !== "") {
    const converted = convertCell("variations", rawVariations, "integer", options.decimalComma);
    if (converted.ok) variations = converted.value as number;
    else errors.push({ row, column: "variations", message: converted.message });
  }

  const metadata: Metadata = {};
  for (const { index, name } of columns.metadata) {
    const value = cell(index);
    if (value === "") continue;
    if (value.length > MAX_METADATA_VALUE) errors.push({ row, column: name, message: `a metadata cell may hold at most ${MAX_METADATA_VALUE} characters` });
    else metadata[name] = value;
  }

  const raw = (): RawRow => {
    const rawInput: Record<string, unknown> = {};
    for (const { index, field } of columns.inputs) if (cell(index).trim() !== "") rawInput[field] = cell(index);
    const modelCell = cell(columns.model).trim();
    return { model: modelCell || options.defaultModel || null, input: rawInput, metadata };
  };
  if (!model.ok) return { ok: false, errors, raw: raw() };
  const checked = checkInput(
    row,
    model.model,
    input,
    (field) => field,
    (field) => `${field} is not used by ${model.model}; leave this cell empty for this row`,
  );
  if (!checked.ok) {
    // Say what the cell held: "duration must be a whole number of seconds, got "60.5"".
    const rawOf = new Map(columns.inputs.map((c) => [c.field as string, cell(c.index)]));
    for (const e of checked.errors) {
      const raw = e.column === null ? undefined : rawOf.get(e.column);
      errors.push(raw && raw.trim() !== "" ? { ...e, message: `${e.message}, got ${excerpt(raw)}` } : e);
    }
  } else {
    const variationError = checkVariations(row, variations, checked.input.seed, "variations");
    if (variationError) errors.push(variationError);
  }
  if (errors.length > 0 || !checked.ok) return { ok: false, errors, raw: raw() };
  return { ok: true, value: { row, model: model.model, input: checked.input, metadata, variations } };
}

const NDJSON_KEYS = new Set(["model", "input", "metadata", "variations"]);

/**
 * Validate one NDJSON line `{"model"?, "input": {...}, "metadata"?: {...}, "variations"?: N}`.
 * Columns are named by JSON path (`input.duration`, `metadata.take`).
 */
export function validateJsonRow(row: number, line: string, options: { defaultModel?: ModelId }): RowResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { ok: false, errors: [{ row, column: null, message: `not valid JSON (${(err as Error).message}); each line must be one object like {"input": {"tags": "..."}}` }] };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, errors: [{ row, column: null, message: 'each line must be a JSON object like {"input": {"tags": "..."}}' }] };
  }
  const obj = value as Record<string, unknown>;
  const errors: RowError[] = [];
  for (const key of Object.keys(obj)) {
    if (!NDJSON_KEYS.has(key)) errors.push({ row, column: key, message: `unknown field "${key}": a line has model, input, metadata and variations` });
  }
  const model = resolveModel(obj.model, options.defaultModel);
  if (!model.ok) errors.push({ row, column: "model", message: model.message });

  const metadata: Metadata = {};
  if (obj.metadata !== undefined) {
    const parsed = metadataSchema.safeParse(obj.metadata);
    if (parsed.success) Object.assign(metadata, parsed.data);
    else for (const issue of parsed.error.issues) errors.push({ row, column: ["metadata", ...issue.path.map(String)].join("."), message: issue.message });
  }

  let variations = 1;
  if (obj.variations !== undefined) {
    if (typeof obj.variations === "number") variations = obj.variations;
    else errors.push({ row, column: "variations", message: `variations must be a whole number from 1 to ${MAX_VARIATIONS}` });
  }

  const rawModel = typeof obj.model === "string" && obj.model.trim() !== "" ? obj.model.trim() : (options.defaultModel ?? null);
  if (typeof obj.input !== "object" || obj.input === null || Array.isArray(obj.input)) {
    errors.push({ row, column: "input", message: 'input is required: an object with the model\'s fields, e.g. {"tags": "lo-fi"}' });
    return { ok: false, errors, raw: { model: rawModel, input: {}, metadata } };
  }
  const raw = { model: rawModel, input: obj.input as Record<string, unknown>, metadata };
  if (!model.ok) return { ok: false, errors, raw };
  const checked = checkInput(
    row,
    model.model,
    obj.input as Record<string, unknown>,
    (field) => `input.${field}`,
    (field) => `unknown field "${field}" for ${model.model}`,
  );
  if (!checked.ok) return { ok: false, errors: [...errors, ...checked.errors], raw };
  const variationError = checkVariations(row, variations, checked.input.seed, "variations");
  if (variationError) errors.push(variationError);
  if (errors.length > 0) return { ok: false, errors, raw };
  return { ok: true, value: { row, model: model.model, input: checked.input, metadata, variations } };
}
