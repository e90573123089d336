import type { Ingest, IngestItem } from "./ingest.ts";

/** Chunks of `text` (or bytes) of `size` bytes, as an upload would arrive. */
export async function* chunked(data: string | Buffer, size = 7): AsyncGenerator<Buffer> {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Every item of an ingest, grouped by kind. */
export async function drain(ingest: Ingest | Promise<Ingest>) {
  const { items, columns } = await ingest;
  const all: IngestItem[] = [];
  for await (const item of items) all.push(item);
  return {
    all,
    jobs: all.filter((i) => i.kind === "job"),
    invalid: all.filter((i) => i.kind === "invalid"),
    duplicates: all.filter((i) => i.kind === "duplicate"),
    errors: all.flatMap((i) => (i.kind === "invalid" ? i.errors : [])),
    columns: columns(),
  };
}

/** A CSV exported the way Excel does in a semicolon locale: BOM, CRLF, quoted multi-line lyrics, an extra column, rows 3 and 5 bad. */
export const EXCEL_CSV =
  "\uFEFFTags; DURATION ;Lyrics;Seed;Take\r\n" +
  'lo-fi, mellow;60.0;"[verse]\r\nfirst line\r\nsecond ""quoted"" line";-1;A\r\n' +
  "synthwave, 80s;30;[inst];7;B\r\n" +
  "ambient;60.5;;;C\r\n" +
  'jazz, "smoky";45;;12;D\r\n' +
  ";30;;;E\r\n" +
  "drum and bass;12,0;;;F\r\n" +
  "\r\n\r\n";
