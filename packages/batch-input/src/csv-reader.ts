import { Readable } from "node:stream";
import { CsvError, parse } from "csv-parse";
import { BatchInputError } from "./errors.ts";

export type Delimiter = "," | ";" | "\t";

/** A CSV upload opened far enough to know its header and delimiter; `rows` streams the data rows. */
export interface CsvTable {
  header: string[];
  delimiter: Delimiter;
  /** Data rows (1-based, the header is not a row); blank lines and all-empty rows are skipped. */
  rows: AsyncGenerator<{ row: number; cells: string[] }>;
}

/** How far we look for the end of the header line before calling the file malformed. */
const MAX_HEADER_BYTES = 64 * 1024;
/** One record (row) larger than this is malformed: it protects memory against a runaway quote. */
const MAX_RECORD_BYTES = 1024 * 1024;

const BOM = [0xef, 0xbb, 0xbf];

/** Count candidate delimiters outside quotes in the header line and pick the most frequent (comma on a tie). */
export function detectDelimiter(headerLine: string): Delimiter {
  const counts: Record<Delimiter, number> = { ",": 0, ";": 0, "\t": 0 };
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === "," || ch === ";" || ch === "\t")) counts[ch]++;
  }
  let best: Delimiter = ",";
  for (const d of [";", "\t"] as const) if (counts[d] > counts[best]) best = d;
  return best;
}

/** Index just past the header line's end (outside quotes), or -1 when the buffer holds no full line yet. */
function headerLineEnd(buf: Buffer): number {
  let quoted = false;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === 0x22) quoted = !quoted;
    else if (!quoted && b === 0x0a) return i + 1;
  }
  return -1;
}

/** `buf` without the whole blank lines (nothing but spaces, tabs and CR) it starts with. */
function withoutLeadingBlankLines(buf: Buffer): Buffer {
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === 0x0a) start = i + 1;
    else if (b !== 0x20 && b !== 0x09 && b !== 0x0d) break;
  }
  return start === 0 ? buf : buf.subarray(start);
}

function csvFailure(err: unknown): BatchInputError {
  if (err instanceof BatchInputError) return err;
  if (!(err instanceof CsvError)) throw err;
  // `records` counts the records parsed before the failure, the header included: the failing
  // record is the next one, i.e. data row number `records`.
  const records = typeof err.records === "number" ? err.records : null;
  const where = records === null ? "the file" : records === 0 ? "the header line" : `row ${records}`;
  switch (err.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return new BatchInputError("malformed_file", `unbalanced quote: a quoted field in ${where} is never closed; every " that opens a field needs a closing "`);
    case "CSV_INVALID_CLOSING_QUOTE":
    case "CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE":
      return new BatchInputError("malformed_file", `misplaced quote in ${where}: a " inside a quoted field must be doubled ("")`);
    case "CSV_MAX_RECORD_SIZE":
      return new BatchInputError("malformed_file", `${where} is larger than ${MAX_RECORD_BYTES / 1024} KB; is a quote left open?`);
    default:
      return new BatchInputError("malformed_file", `the file is not valid CSV near ${where}: ${err.message}`);
  }
}

/**
 * Open a CSV stream: strip a UTF-8 BOM, refuse UTF-16, detect the delimiter from the header line,
 * then parse with csv-parse (quoted fields with embedded newlines and doubled quotes, CRLF or LF).
 * Nothing but the current record is held in memory.
 */
export async function openCsv(source: AsyncIterable<Buffer>): Promise<CsvTable> {
  const it = source[Symbol.asyncIterator]();
  // Read up to the end of the header line: the first line that is not blank (however the upload
  // happens to be chunked), after a UTF-8 BOM.
  let head: Buffer = Buffer.alloc(0);
  let ended = false;
  let encodingChecked = false;
  for (;;) {
    if (!encodingChecked && (head.length >= BOM.length || ended)) {
      if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
        throw new BatchInputError("malformed_file", "the file is UTF-16 text; save it as \"CSV UTF-8\" (comma or semicolon delimited)");
      }
      if (BOM.every((b, i) => head[i] === b)) head = head.subarray(BOM.length);
      encodingChecked = true;
    }
    if (encodingChecked) {
      head = withoutLeadingBlankLines(head);
      if (ended || headerLineEnd(head) >= 0) break;
    }
    if (head.length > MAX_HEADER_BYTES) {
      throw new BatchInputError("malformed_file", `the first line (the header) is longer than ${MAX_HEADER_BYTES / 1024} KB or has an unbalanced quote`);
    }
    const next = await it.next();
    if (next.done) ended = true;
    else head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
  }
  // Only conclusive when the head is the whole file: a first line of what trim() calls blank (a
  // stray BOM, a no-break space) may be followed by more, which the parser below then reads.
  if (ended && head.toString("utf8").trim() === "") throw new BatchInputError("empty_file", "the file is empty; the first line must be a header naming the columns (tags, …)");

  const end = headerLineEnd(head);
  const delimiter = detectDelimiter(head.subarray(0, end < 0 ? head.length : end).toString("utf8"));
  const parser = parse({
    delimiter,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    max_record_size: MAX_RECORD_BYTES,
  });
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    if (ended) return;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const input = Readable.from(rest(), { objectMode: false });
  input.on("error", (err) => parser.destroy(err));
  input.pipe(parser);
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<string[]>;

  const first = await records.next().catch((err: unknown) => {
    throw csvFailure(err);
  });
  if (first.done) throw new BatchInputError("empty_file", "the file is empty; the first line must be a header naming the columns (tags, …)");
  const header = first.value;

  async function* rows(): AsyncGenerator<{ row: number; cells: string[] }> {
    let row = 0;
    try {
      for (;;) {
        const next = await records.next();
        if (next.done) return;
        row++;
        yield { row, cells: next.value };
      }
    } catch (err) {
      throw csvFailure(err);
    } finally {
      input.destroy();
      parser.destroy();
    }
  }
  return { header, delimiter, rows: rows() };
}
