import { MAX_METADATA_KEYS } from "@acebatch/contracts";
import { BatchInputError, excerpt } from "./errors.ts";
import { isInputField, type InputField } from "./fields.ts";

/** Where each kind of column sits in a CSV row. */
export interface CsvColumns {
  inputs: { index: number; field: InputField }[];
  model: number | null;
  variations: number | null;
  /** Any other named column, kept as row metadata under its header name (trimmed). */
  metadata: { index: number; name: string }[];
  /** Columns with an empty header (spreadsheets export trailing empty columns). */
  unnamed: number[];
  width: number;
}

const MAX_METADATA_NAME = 100;

/** `" DURATION "` → `duration`, `Start Time` → `start_time`: headers match case- and space-insensitively. */
export function canonicalHeader(name: string): string {
  return name.normalize("NFKC").trim().toLowerCase().replace(/[\s-]+/g, "_");
}

/**
 * Map a header line to columns. A file without a `tags` column, with a column named twice, or with
 * more metadata columns than a job can carry is malformed (one clear error for the whole file).
 */
export function mapHeader(header: readonly string[]): CsvColumns {
  const columns: CsvColumns = { inputs: [], model: null, variations: null, metadata: [], unnamed: [], width: header.length };
  const seen = new Map<string, string>();
  header.forEach((raw, index) => {
    const name = raw.trim();
    if (name === "") {
      columns.unnamed.push(index);
      return;
    }
    const canonical = canonicalHeader(name);
    const known = isInputField(canonical) || canonical === "model" || canonical === "variations";
    const key = known ? canonical : name;
    const previous = seen.get(known ? canonical : name.toLowerCase());
    if (previous !== undefined) {
      throw new BatchInputError(
        "malformed_file",
        `the header names the column ${excerpt(key)} twice (${excerpt(previous)} and ${excerpt(name)}); rename or remove one`,
      );
    }
    seen.set(known ? canonical : name.toLowerCase(), name);
    if (canonical === "model") columns.model = index;
    else if (canonical === "variations") columns.variations = index;
    else if (isInputField(canonical)) columns.inputs.push({ index, field: canonical });
    else {
      if (name.length > MAX_METADATA_NAME) {
        throw new BatchInputError("malformed_file", `the column name ${excerpt(name)} is longer than ${MAX_METADATA_NAME} characters`);
      }
      columns.metadata.push({ index, name });
    }
  });
  if (!columns.inputs.some((c) => c.field === "tags")) {
    const found = header.map((h) => h.trim()).filter(Boolean);
    throw new BatchInputError(
      "malformed_file",
      `the file has no "tags" column${found.length ? ` (the first line has: ${found.slice(0, 10).map((h) => excerpt(h, 30)).join(", ")}${found.length > 10 ? ", …" : ""})` : ""}; the first line must be a header naming the columns, e.g. tags,lyrics,duration`,
    );
  }
  if (columns.metadata.length > MAX_METADATA_KEYS) {
    throw new BatchInputError(
      "malformed_file",
      `the file has ${columns.metadata.length} extra (metadata) columns; a row can carry at most ${MAX_METADATA_KEYS}`,
    );
  }
  return columns;
}
