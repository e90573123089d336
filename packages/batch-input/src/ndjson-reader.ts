import { BatchInputError } from "./errors.ts";

/** Longest NDJSON line accepted (one job's JSON is a few KB at most). */
export const MAX_NDJSON_LINE_BYTES = 1024 * 1024;

/**
 * Split an NDJSON stream into its non-blank lines, numbered from 1 as data rows. Splitting happens
 * on bytes (a newline byte never occurs inside a UTF-8 sequence), so only one line is decoded at a
 * time; CRLF and a leading BOM are accepted.
 */
export async function* readNdjsonLines(source: AsyncIterable<Buffer>): AsyncGenerator<{ row: number; line: string }> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let row = 0;
  let first = true;
  function* emit(bytes: Buffer): Generator<{ row: number; line: string }> {
    let text = bytes.toString("utf8");
    if (first) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.trim() === "") return;
    row++;
    yield { row, line: text };
  }
  for await (const chunk of source) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      const line = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      pendingBytes = 0;
      yield* emit(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_NDJSON_LINE_BYTES) {
        throw new BatchInputError("malformed_file", `row ${row + 1} (a line) is longer than ${MAX_NDJSON_LINE_BYTES / 1024} KB; each line must be one JSON object`);
      }
    }
  }
  if (pending.length > 0) yield* emit(Buffer.concat(pending));
}
