import { BatchInputError, ingestCsv, ingestNdjson, limitBytes, type Ingest, type IngestItem } from "@acebatch/batch-input";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { RUNS } from "./fuzz-support.ts";

// The upload parsers on their own, below the HTTP layer: any bytes either parse into row outcomes
// or fail as a BatchInputError (a 400/413 with a message), never anything else; and where a file
// parses, how the upload happened to be chunked on the wire never changes the outcome.
let cases = 0;
/** Outcomes reached, so a generator that only ever produces rejected files is noticed. */
const reached = { jobs: 0, invalidRows: 0, refusedFiles: 0 };
afterAll(() => console.log(`[fuzz] upload parsers: ${cases} cases tried`));

const MAX_ROWS = 50;
const T2A = "acestep-ai/ace-step/text-to-audio";

async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Every outcome of an ingest, or the BatchInputError that ended it (anything else is rethrown: a bug). */
async function outcome(open: () => Ingest | Promise<Ingest>): Promise<{ items: IngestItem[]; columns: unknown } | { error: string }> {
  cases++;
  try {
    const ingest = await open();
    const items: IngestItem[] = [];
    for await (const item of ingest.items) items.push(item);
    return { items, columns: ingest.columns() };
  } catch (err) {
    if (err instanceof BatchInputError) {
      expect(err.message.length).toBeGreaterThan(0);
      expect(err.message.length).toBeLessThan(500);
      return { error: `${err.code}: ${err.message}` };
    }
    throw err;
  }
}

function expectWellFormed(result: Awaited<ReturnType<typeof outcome>>) {
  if ("error" in result) {
    reached.refusedFiles++;
    return;
  }
  if (result.items.some((i) => i.kind === "job")) reached.jobs++;
  if (result.items.some((i) => i.kind === "invalid")) reached.invalidRows++;
  const rows = result.items.map((i) => i.row);
  expect(rows).toEqual([...rows].sort((a, b) => a - b));
  expect(result.items.length).toBeLessThanOrEqual(MAX_ROWS);
  for (const item of result.items) {
    if (item.kind === "job") {
      expect(typeof item.input.tags).toBe("string");
      expect(Object.getPrototypeOf(item.input)).toBe(Object.prototype);
      expect(Object.hasOwn(item.input, "__proto__")).toBe(false);
    }
    if (item.kind === "invalid") expect(item.errors.length).toBeGreaterThan(0);
  }
}

const cell = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom("", '"', '""', '"open', 'a"b', ",", ";", "\t", "\r\n", "\n", "\r", "\u0000", "\uFEFF", "\uD800", "30", "-1", "60.0", "12,0", "1e309", "__proto__", "x".repeat(3_000)),
);
const header = fc.array(fc.oneof(cell, fc.constantFrom("tags", "Tags", " DURATION ", "seed", "lyrics", "model", "variations", "__proto__", "constructor")), { minLength: 1, maxLength: 7 });
const csvBytes = fc.oneof(
  fc
    .tuple(header, fc.array(fc.array(cell, { maxLength: 8 }), { maxLength: 25 }), fc.constantFrom(",", ";", "\t"), fc.constantFrom("\n", "\r\n", "\r"), fc.boolean())
    .map(([h, rows, sep, eol, bom]) => Buffer.from((bom ? "\uFEFF" : "") + [h, ...rows].map((r) => r.join(sep)).join(eol))),
  fc.uint8Array({ maxLength: 4_000 }).map((b) => Buffer.from(b)),
  // Valid-looking text with invalid UTF-8 spliced in.
  fc.tuple(fc.string({ maxLength: 200 }), fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 200 })).map(([a, b, c]) => Buffer.concat([Buffer.from(`tags,duration\n${a}`), Buffer.from(b), Buffer.from(c)])),
);
const chunkSizes = fc.tuple(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 65, max: 8_192 }));

describe("fuzzed upload parsers", () => {
  it("CSV: any bytes parse into ordered row outcomes or fail as a BatchInputError, the same whatever the chunking", async () => {
    await fc.assert(
      fc.asyncProperty(csvBytes, chunkSizes, async (bytes, [small, large]) => {
        const a = await outcome(() => ingestCsv(chunks(bytes, small), { maxRows: MAX_ROWS, defaultModel: T2A }));
        const b = await outcome(() => ingestCsv(chunks(bytes, large), { maxRows: MAX_ROWS, defaultModel: T2A }));
        expectWellFormed(a);
        expect(b).toEqual(a);
      }),
      { numRuns: RUNS * 2 },
    );
    expect(reached.jobs).toBeGreaterThan(0);
    expect(reached.invalidRows).toBeGreaterThan(0);
    expect(reached.refusedFiles).toBeGreaterThan(0);
  });

  it("NDJSON: any lines parse into ordered row outcomes or fail as a BatchInputError, the same whatever the chunking", async () => {
    const line = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.record({ model: fc.constantFrom(T2A, "nope"), input: fc.dictionary(fc.constantFrom("tags", "duration", "seed", "__proto__", "x"), fc.jsonValue(), { maxKeys: 4 }) }).map((v) => JSON.stringify(v)),
      fc.constantFrom('{"__proto__":{"polluted":1},"input":{"tags":"x"}}', "[[[[[[[[[[", "\u0000", "", "   "),
      fc.string({ maxLength: 80 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 30 }), fc.constantFrom("\n", "\r\n"), chunkSizes, async (lines, eol, [small, large]) => {
        const bytes = Buffer.from(lines.join(eol));
        const a = await outcome(() => ingestNdjson(chunks(bytes, small), { maxRows: MAX_ROWS, defaultModel: T2A }));
        const b = await outcome(() => ingestNdjson(chunks(bytes, large), { maxRows: MAX_ROWS, defaultModel: T2A }));
        expectWellFormed(a);
        expect(b).toEqual(a);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it("a byte cap cuts any upload off with file_too_large, never mid-row garbage", async () => {
    await fc.assert(
      fc.asyncProperty(csvBytes, fc.integer({ min: 1, max: 2_000 }), async (bytes, cap) => {
        const result = await outcome(() => ingestCsv(limitBytes(chunks(bytes, 97), cap), { maxRows: MAX_ROWS, defaultModel: T2A }));
        if (bytes.length > cap) expect(result).toMatchObject({ error: expect.stringMatching(/^file_too_large/) });
        else expectWellFormed(result);
      }),
      { numRuns: RUNS },
    );
  });
});
