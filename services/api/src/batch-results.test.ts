import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { EXCEL_CSV, makeBatchTestApp, readZip, T2A, type BatchTestApp } from "./batch-test-support.ts";

let t: BatchTestApp;
beforeEach(async () => {
  t = await makeBatchTestApp({ label: "batch-results", redisUrl: inject("redisUrl") });
});
afterEach(async () => {
  await t?.close();
});

async function create(query: string, body: string, contentType = "text/csv") {
  const res = await t.upload(`/v1/batches?${query}`, body, contentType);
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; total: number; accepted: number; rejected: number; duplicates: number };
}

const jsonl = async (id: string) =>
  (await t.get(`/v1/batches/${id}/results?format=jsonl`)).body
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, any>);

describe("batch results: one line per row", () => {
  it("lists rows skipped as invalid in row order, with the cells they had and the column at fault", async () => {
    const batch = await create(`model=${T2A}&on_invalid=skip`, EXCEL_CSV);
    const rows = await jsonl(batch.id);
    expect(rows).toHaveLength(batch.total);
    expect(rows.map((r) => [r.row, r.status])).toEqual([
      [1, "queued"],
      [2, "queued"],
      [3, "rejected"],
      [4, "queued"],
      [5, "rejected"],
      [6, "queued"],
    ]);
    expect(rows[2]).toMatchObject({
      row: 3,
      job_id: null,
      status: "rejected",
      input: { tags: "ambient", duration: "60.5" },
      metadata: { Take: "C" },
      cost_usd: null,
      audio_url: null,
      error_code: "invalid_row",
      error_message: 'duration: duration must be a whole number of seconds, got "60.5"',
    });
    expect(rows[4]).toMatchObject({ row: 5, job_id: null, metadata: { Take: "E" }, error_code: "invalid_row", error_message: expect.stringMatching(/^tags: tags is required/) });

    const csv = (await t.get(`/v1/batches/${batch.id}/results?format=csv`)).body;
    expect(csv).toContain(`\n3,,rejected,${T2A},ambient,,60.5,,C,,,invalid_row,"duration: duration must be a whole number of seconds, got ""60.5""",,\n`);
  });

  it("shows a duplicate row with the row it repeats, and an NDJSON row's input as it was sent", async () => {
    const dup = await create(`model=${T2A}`, "tags,duration,seed,take\nx,10,1,a\ny,10,1,b\nx,10,1,c\n");
    expect((await jsonl(dup.id)).map((r) => [r.row, r.status, r.job_id === null, r.metadata.take, r.error_code])).toEqual([
      [1, "queued", false, "a", null],
      [2, "queued", false, "b", null],
      [3, "duplicate", true, "c", "duplicate_row"],
    ]);
    expect((await jsonl(dup.id))[2]!.error_message).toMatch(/as row 1\b/);

    const ndjson = [
      JSON.stringify({ input: { tags: "ok", duration: 5 } }),
      JSON.stringify({ input: { tags: "too long", duration: 999 }, metadata: { take: 2 } }),
      "not json",
    ].join("\n");
    const nd = await create(`model=${T2A}&on_invalid=skip`, ndjson, "application/x-ndjson");
    const rows = await jsonl(nd.id);
    expect(rows.map((r) => [r.row, r.status])).toEqual([
      [1, "queued"],
      [2, "rejected"],
      [3, "rejected"],
    ]);
    expect(rows[1]).toMatchObject({ input: { tags: "too long", duration: 999 }, metadata: { take: 2 }, error_message: expect.stringMatching(/^input\.duration: /) });
    expect(rows[2]).toMatchObject({ input: {}, metadata: {}, error_message: expect.stringMatching(/not valid JSON/) });
  });

  it("merges rejected rows and jobs in row order across result pages, variations included", async () => {
    // 1,500 rows: every even row is invalid, so both the jobs and the rejected rows span several pages.
    const lines = Array.from({ length: 1_500 }, (_, i) => (i % 2 === 1 ? `,2,,r${i + 1}` : `row ${i + 1},${i === 0 ? 2 : 1},,r${i + 1}`));
    const batch = await create(`model=${T2A}&on_invalid=skip`, `tags,variations,seed,take\n${lines.join("\n")}\n`);
    expect(batch).toMatchObject({ accepted: 751, rejected: 750 });
    const rows = await jsonl(batch.id);
    expect(rows).toHaveLength(batch.total);
    expect(rows.slice(0, 4).map((r) => [r.row, r.variation, r.status])).toEqual([
      [1, 1, "queued"],
      [1, 2, "queued"],
      [2, null, "rejected"],
      [3, 1, "queued"],
    ]);
    const order = rows.map((r) => r.row);
    expect(order).toEqual([1, ...Array.from({ length: 1_500 }, (_, i) => i + 1)]);
    expect(rows.every((r) => (r.row % 2 === 0) === (r.status === "rejected") && r.metadata.take === `r${r.row}`)).toBe(true);

    const csv = (await t.get(`/v1/batches/${batch.id}/results?format=csv`)).body.trim().split("\n");
    expect(csv).toHaveLength(1 + batch.total);
    expect(csv[3]).toBe(`2,,,rejected,${T2A},,,,r2,,,invalid_row,tags: tags is required: comma-separated genre / mood / instrument tags,,`);
  });

  it("puts the rejected rows in the archive's results.csv too", async () => {
    const batch = await create(`model=${T2A}&on_invalid=skip`, EXCEL_CSV);
    const entries = readZip((await t.get(`/v1/batches/${batch.id}/archive`)).rawPayload);
    const csv = entries.get("results.csv")!.toString();
    expect(csv).toContain(`\n3,,rejected,${T2A},ambient,,60.5,,C,,,invalid_row,`);
    expect(csv).toContain(`\n5,,rejected,${T2A},,,30,,E,,,invalid_row,`);
  });
});
