import { describe, expect, it } from "vitest";
import { tagCombosRequestSchema } from "./axes.ts";
import { BatchInputError } from "./errors.ts";
import { ingestCombos, ingestCsv, ingestNdjson } from "./ingest.ts";
import { limitBytes } from "./limits.ts";
import { chunked, drain, EXCEL_CSV } from "./test-support.ts";

const T2A = "acestep-ai/ace-step/text-to-audio";
const INPAINT = "acestep-ai/ace-step/audio-inpaint";
const csv = (text: string, options: { maxRows?: number; defaultModel?: typeof T2A | undefined } = {}) =>
  drain(ingestCsv(chunked(text), { maxRows: options.maxRows ?? 1_000, defaultModel: "defaultModel" in options ? options.defaultModel : T2A }));

async function failure(promise: Promise<unknown>): Promise<BatchInputError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BatchInputError);
  return err as BatchInputError;
}

describe("CSV as spreadsheets export it", () => {
  it("skips blank lines before the header, and finds the header the same however the upload is chunked", async () => {
    const text = "\uFEFF\r\n  \r\n\ntags;duration\r\nambient;30\r\n";
    for (const size of [1, 2, 3, 5, 64]) {
      const r = await drain(ingestCsv(chunked(text, size), { maxRows: 10, defaultModel: T2A }));
      expect(r.jobs.map((j) => [j.row, j.input.tags, j.input.duration])).toEqual([[1, "ambient", 30]]);
    }
    const onlyBlank = await failure(drain(ingestCsv(chunked("\n \r\n\t\n", 1), { maxRows: 10, defaultModel: T2A })));
    expect(onlyBlank.code).toBe("empty_file");
    const noTags = await failure(drain(ingestCsv(chunked("\n-", 1), { maxRows: 10, defaultModel: T2A })));
    expect(noTags.message).toMatch(/no "tags" column/);
    // A first line that only looks blank to trim() (a second BOM, a no-break space) does not end
    // the file early when the chunk ends there (found by the fuzzer).
    const outcome = (text: string, size: number) =>
      drain(ingestCsv(chunked(text, size), { maxRows: 10, defaultModel: T2A })).then(
        (r) => `rows ${r.jobs.map((j) => j.input.tags).join(",")}`,
        (e: unknown) => (e as BatchInputError).code,
      );
    for (const [text, expected] of [["\uFEFF\uFEFF\n;", "malformed_file"], ["\u00A0\ntags\nx\n", "rows x"]]) {
      for (const size of [1, 4, 64]) expect(await outcome(text!, size), `${JSON.stringify(text)} in chunks of ${size}`).toBe(expected);
    }
  });

  it("reads an Excel semicolon CSV (BOM, CRLF, multi-line quoted lyrics, extra column) and names exactly the two bad rows", async () => {
    const r = await csv(EXCEL_CSV);
    expect(r.errors).toEqual([
      { row: 3, column: "duration", message: 'duration must be a whole number of seconds, got "60.5"' },
      { row: 5, column: "tags", message: expect.stringMatching(/tags is required/) },
    ]);
    expect(r.jobs.map((j) => j.row)).toEqual([1, 2, 4, 6]);
    expect(r.jobs[0]).toMatchObject({
      input: { tags: "lo-fi, mellow", duration: 60, seed: -1, lyrics: '[verse]\nfirst line\nsecond "quoted" line' },
      metadata: { Take: "A" },
    });
    expect(r.jobs[2]).toMatchObject({ input: { tags: 'jazz, "smoky"', duration: 45, seed: 12 }, metadata: { Take: "D" } });
    // "12,0" is a whole number in a semicolon (decimal-comma) locale.
    expect(r.jobs[3]).toMatchObject({ input: { duration: 12 }, metadata: { Take: "F" } });
    expect(r.columns).toEqual({ input: ["tags", "lyrics", "duration", "seed"], metadata: ["Take"], variations: false });
  });

  it("reads a comma CSV with LF, no BOM, quoted commas, odd header spelling and empty cells as absent", async () => {
    const r = await csv('  TAGS ,Duration,seed , Mood Board\n"house, deep",90,,x\nambient,,3,\n\n');
    expect(r.errors).toEqual([]);
    expect(r.jobs.map((j) => j.input)).toEqual([
      { tags: "house, deep", duration: 90, seed: -1 },
      { tags: "ambient", duration: 60, seed: 3 },
    ]);
    expect(r.jobs.map((j) => j.metadata)).toEqual([{ "Mood Board": "x" }, {}]);
  });

  it("takes the model per row and the inpaint fields, and says when a cell does not belong to the row's model", async () => {
    const r = await csv(
      "tags,model,audio,start_time,end_time\n" +
        `piano,${INPAINT},https://cdn.example/a.mp3,2.5,6\n` +
        "piano,,https://cdn.example/a.mp3,,\n" +
        "strings,acestep-ai/ace-step-9/text-to-audio,,,\n",
    );
    expect(r.jobs[0]).toMatchObject({ model: INPAINT, input: { audio: "https://cdn.example/a.mp3", start_time: 2.5, end_time: 6, start_time_relative_to: "start" } });
    expect(r.errors).toEqual([
      { row: 2, column: "audio", message: expect.stringContaining(`audio is not used by ${T2A}`) },
      { row: 3, column: "model", message: expect.stringContaining("unknown model") },
    ]);
    expect(r.columns.input).toEqual(["tags", "audio", "start_time", "start_time_relative_to", "end_time", "end_time_relative_to", "seed"].sort((a, b) => order(a) - order(b)));
  });

  it("reports every bad cell of a row and refuses decimal commas in a comma file", async () => {
    const r = await csv('tags,duration,seed\nx,"60,5",abc\n');
    expect(r.errors).toEqual([
      { row: 1, column: "duration", message: 'duration must be a whole number, got "60,5"' },
      { row: 1, column: "seed", message: 'seed must be a whole number (-1 for random), got "abc"' },
    ]);
  });
});

const order = (field: string) => ["tags", "lyrics", "duration", "seed", "audio", "start_time", "start_time_relative_to", "end_time", "end_time_relative_to"].indexOf(field);

describe("malformed files get one clear error", () => {
  it("an unbalanced quote names the row it opens in", async () => {
    const err = await failure(csv('tags,duration\nok,30\n"never closed,30\nmore,40\n'));
    expect(err.statusCode).toBe(400);
    expect(err.code).toBe("malformed_file");
    expect(err.message).toMatch(/unbalanced quote.*row 2/);
  });

  it("a file without a tags column lists what its first line holds", async () => {
    const err = await failure(csv("genre;duration\nhouse;30\n"));
    expect(err.message).toMatch(/no "tags" column.*"genre", "duration"/);
  });

  it.each([
    ["a column named twice", "tags,Tags\nx,y\n", /twice/],
    ["an empty file", "\uFEFF\r\n\r\n", /empty/],
    ["UTF-16 text", Buffer.from("\uFEFFtags\n", "utf16le"), /UTF-16/],
  ])("%s", async (_label, body, message) => {
    const err = await failure(drain(ingestCsv(chunked(body), { maxRows: 10, defaultModel: T2A })));
    expect(err.message).toMatch(message);
  });

  it("no model anywhere is a file error, not one per row", async () => {
    const err = await failure(csv("tags\nx\n", { defaultModel: undefined }));
    expect(err.message).toMatch(/\?model=/);
  });
});

describe("variations and duplicates", () => {
  it("expands a variations column: fixed seeds count up, random seeds stay random", async () => {
    const r = await csv("tags,seed,variations\na,10,3\nb,,2\nc,5,\n");
    expect(r.jobs.map((j) => [j.row, j.variation, j.input.seed])).toEqual([
      [1, 1, 10],
      [1, 2, 11],
      [1, 3, 12],
      [2, 1, -1],
      [2, 2, -1],
      [3, 1, 5],
    ]);
    expect(r.columns.variations).toBe(true);
  });

  it("reports exact fixed-seed duplicates with the row they repeat, and never random-seed rows", async () => {
    const r = await csv("tags,duration,seed,variations\nx,30,10,2\nx,30,11,\nx,30.0,10,\ny,30,-1,\ny,30,-1,\nx,31,10,\n");
    expect(r.duplicates).toMatchObject([
      { kind: "duplicate", row: 2, variation: 1, duplicateOf: { row: 1, variation: 2 } },
      { kind: "duplicate", row: 3, variation: 1, duplicateOf: { row: 1, variation: 1 } },
    ]);
    expect(r.jobs.map((j) => [j.row, j.variation])).toEqual([
      [1, 1],
      [1, 2],
      [4, 1],
      [5, 1],
      [6, 1],
    ]);
  });

  it("refuses variations that would run past the largest seed", async () => {
    const r = await csv("tags,seed,variations\nx,2147483647,2\nx,1,101\n");
    expect(r.errors.map((e) => [e.row, e.column])).toEqual([
      [1, "variations"],
      [2, "variations"],
    ]);
  });
});

describe("limits", () => {
  it("refuses more rows than the limit with a 413 naming it, counting variations", async () => {
    const err = await failure(csv("tags\na\nb\nc\nd\n", { maxRows: 3 }));
    expect(err).toMatchObject({ statusCode: 413, code: "too_many_rows" });
    expect(err.message).toMatch(/more than 3 rows/);
    const viaVariations = await failure(csv("tags,variations\na,2\nb,2\n", { maxRows: 3 }));
    expect(viaVariations.code).toBe("too_many_rows");
  });

  it("stops reading an upload past the byte limit with a 413 naming it", async () => {
    const err = await failure(drain(ingestCsv(limitBytes(chunked("tags\n" + "x\n".repeat(600), 64), 1_000), { maxRows: 10_000, defaultModel: T2A })));
    expect(err).toMatchObject({ statusCode: 413, code: "file_too_large" });
    expect(err.message).toMatch(/1000 bytes/);
  });
});

describe("NDJSON", () => {
  it("validates each line as {model, input, metadata, variations} and names bad fields by path", async () => {
    const lines = [
      JSON.stringify({ input: { tags: "lo-fi", duration: 20 }, metadata: { take: 1 } }),
      "",
      "{not json",
      JSON.stringify({ model: T2A, input: { tags: "x", colour: "red", duration: 999 } }),
      JSON.stringify({ input: { tags: "y", seed: 4 }, variations: 2, extra: true }),
      JSON.stringify({ input: { tags: "z", seed: 4 }, variations: 2 }),
    ].join("\r\n");
    const r = await drain(ingestNdjson(chunked(`\uFEFF${lines}\n`), { maxRows: 100, defaultModel: T2A }));
    expect(r.jobs.map((j) => [j.row, j.variation, j.input.seed])).toEqual([
      [1, 1, -1],
      [5, 1, 4],
      [5, 2, 5],
    ]);
    expect(r.jobs[0]!.metadata).toEqual({ take: 1 });
    expect(r.errors.map((e) => [e.row, e.column])).toEqual([
      [2, null],
      [3, "input.duration"],
      [3, "input.colour"],
      [4, "extra"],
    ]);
    expect(r.columns.metadata).toEqual(["take"]);
  });
});

describe("tag combos", () => {
  const request = (body: unknown) => tagCombosRequestSchema.parse(body);

  it("expands the cartesian product in axis order, template tags first, × seed variations", async () => {
    const r = await drain(
      ingestCombos(
        request({ input: { tags: "instrumental", duration: 30, seed: 100 }, axes: { genre: ["house", "jazz"], mood: ["dark", "bright"], bpm: ["90 BPM", "120 BPM"] }, variations: 2 }),
        T2A,
        { maxRows: 1_000 },
      ),
    );
    expect(r.jobs).toHaveLength(16);
    expect(r.jobs.slice(0, 3).map((j) => [j.row, j.variation, j.input.tags, j.input.seed])).toEqual([
      [1, 1, "instrumental, house, dark, 90 BPM", 100],
      [1, 2, "instrumental, house, dark, 90 BPM", 101],
      [2, 1, "instrumental, house, dark, 120 BPM", 100],
    ]);
    expect(r.jobs.at(-1)).toMatchObject({ row: 8, variation: 2, input: { tags: "instrumental, jazz, bright, 120 BPM" }, metadata: { genre: "jazz", mood: "bright", bpm: "120 BPM" } });
    expect(r.columns.metadata).toEqual(["genre", "mood", "bpm"]);
  });

  it("lets an axis named after an input field set that field, and reports bad values per row", async () => {
    const r = await drain(ingestCombos(request({ axes: { genre: ["house"], duration: [30, 999] } }), T2A, { maxRows: 100 }));
    expect(r.jobs.map((j) => j.input)).toEqual([{ tags: "house", duration: 30, seed: -1 }]);
    expect(r.errors).toEqual([{ row: 2, column: "duration", message: expect.stringMatching(/at most 240/) }]);
  });

  it("refuses a bad template once and too many combinations with a 413", () => {
    expect(() => ingestCombos(request({ input: { duration: 1 }, axes: { genre: ["a", "b"] } }), T2A, { maxRows: 100 })).toThrow(/input.duration/);
    expect(() => ingestCombos(request({ axes: { a: ["1", "2", "3"], b: ["1", "2"] }, variations: 2 }), T2A, { maxRows: 10 })).toThrow(/more than 10 rows/);
  });
});

describe("rows that get no job", () => {
  it("keeps what an invalid row held (cells as written) and what a duplicate would have run, for its results line", async () => {
    const r = await csv(EXCEL_CSV);
    expect(r.invalid.map((i) => [i.row, i.kind === "invalid" && i.raw])).toEqual([
      [3, { model: T2A, input: { tags: "ambient", duration: "60.5" }, metadata: { Take: "C" } }],
      [5, { model: T2A, input: { duration: "30" }, metadata: { Take: "E" } }],
    ]);
    const ndjson = await drain(
      ingestNdjson(chunked('{"model":"nope","input":{"tags":"x"},"metadata":{"take":1}}\n{"input":{"tags":"y","duration":999}}\n'), { maxRows: 10, defaultModel: T2A }),
    );
    expect(ndjson.invalid.map((i) => i.kind === "invalid" && i.raw)).toEqual([
      { model: "nope", input: { tags: "x" }, metadata: { take: 1 } },
      { model: T2A, input: { tags: "y", duration: 999 }, metadata: {} },
    ]);
    const dup = await csv("tags,duration,seed,take\nx,30,10,a\nx,30,10,b\n");
    expect(dup.duplicates).toMatchObject([{ row: 2, model: T2A, input: { tags: "x", duration: 30, seed: 10 }, metadata: { take: "b" } }]);
  });
});
