import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLedger, GLOBAL_SCOPE } from "@acebatch/ledger";
import { batchJobId, BATCH_JOB_PRIORITY } from "@acebatch/queue";
import { audioKey } from "@acebatch/storage";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { EXCEL_CSV, makeBatchTestApp, multipartBody, readZip, T2A } from "./batch-test-support.ts";

async function makeApp(batchLimits?: { maxRows?: number; maxBytes?: number }) {
  const base = await makeBatchTestApp({ redisUrl: inject("redisUrl"), config: { batchLimits } });
  return { ...base, ledger: createLedger({ redis: base.redis, prefix: base.prefix }) };
}

let t: Awaited<ReturnType<typeof makeApp>>;
beforeEach(async () => {
  t = await makeApp();
});
afterEach(async () => {
  await t?.close();
});

const csvRows = (text: string) => text.trim().split("\n");

describe("POST /v1/batches with a CSV", () => {
  it("quotes an Excel CSV without enqueueing: reject names exactly the two bad rows, skip prices the rest", async () => {
    const rejected = await t.upload(`/v1/batches?model=${T2A}&dry_run=true`, EXCEL_CSV);
    expect(rejected.statusCode).toBe(400);
    const body = rejected.json();
    expect(body.error.code).toBe("invalid_rows");
    expect(body.errors.map((e: any) => [e.row, e.column])).toEqual([
      [3, "duration"],
      [5, "tags"],
    ]);
    expect(body.error.details.map((d: any) => d.path)).toEqual(["row 3 / duration", "row 5 / tags"]);

    const quote = await t.upload(`/v1/batches?model=${T2A}&dry_run=true&on_invalid=skip&max_cost_usd=0.01`, EXCEL_CSV);
    expect(quote.statusCode).toBe(200);
    // 60 + 30 + 45 + 12 seconds at $0.0002/s.
    expect(quote.json()).toMatchObject({ id: null, status: "quote", total: 6, accepted: 4, rejected: 2, duplicates: 0, estimated_cost_usd: 0.0294, estimated_seconds: 147, max_cost_usd: 0.01 });
    expect(quote.json().warnings[0]).toMatch(/above max_cost_usd/);
    expect(await t.queues.generate.count()).toBe(0);
    expect((await t.get("/v1/batches")).json().data).toEqual([]);
  });

  it("enqueues the valid rows with on_invalid=skip: deterministic ids in row order at the batch priority, counts, results with metadata", async () => {
    const res = await t.upload(`/v1/batches?model=${T2A}&on_invalid=skip&name=drafts&max_cost_usd=2.5`, EXCEL_CSV);
    expect(res.statusCode).toBe(201);
    const batch = res.json();
    expect(batch).toMatchObject({ status: "in_progress", name: "drafts", total: 6, accepted: 4, rejected: 2, max_cost_usd: 2.5, estimated_cost_usd: 0.0294 });
    expect(batch.errors).toHaveLength(2);
    expect(batch.counts).toEqual({ queued: 4, waiting_budget: 0, in_progress: 0, completed: 0, failed: 0, cancelled: 0 });
    const ids = [1, 2, 4, 6].map((row) => batchJobId(batch.id, row));
    const waiting = await t.queues.generate.getJobs(["prioritized", "waiting"]);
    expect(waiting.map((j) => j.id).sort()).toEqual(ids);
    expect(waiting.every((j) => j.opts.priority === BATCH_JOB_PRIORITY)).toBe(true);
    const job = (await t.get(`/v1/jobs/${ids[0]}`)).json();
    expect(job).toMatchObject({ batch_id: batch.id, metadata: { Take: "A" }, input: { lyrics: '[verse]\nfirst line\nsecond "quoted" line' }, estimated_cost_usd: 0.012 });

    const again = await t.get(`/v1/batches/${batch.id}`);
    expect(again.json()).toMatchObject({ id: batch.id, status: "in_progress", spent_usd: 0, eta_seconds: null });
    expect((await t.get(`/v1/batches/${batch.id}/errors`)).json().errors.map((e: any) => e.row)).toEqual([3, 5]);

    const csv = await t.get(`/v1/batches/${batch.id}/results?format=csv`);
    expect(csv.headers["content-type"]).toMatch(/text\/csv/);
    const lines = csvRows(csv.body);
    expect(lines[0]).toBe("row,job_id,status,model,tags,lyrics,duration,seed,Take,cost_usd,audio_url,error_code,error_message,output_seed,output_duration_seconds");
    expect(lines).toHaveLength(1 + 6 + 2); // one line per row (3 and 5 rejected); the multi-line lyrics cell spans three physical lines
    expect(lines[1]).toMatch(new RegExp(`^1,${ids[0]},queued,${T2A},"lo-fi, mellow","\\[verse\\]`));
    expect(lines.at(-1)).toBe(`6,${ids[3]},queued,${T2A},drum and bass,,12,-1,F,,,,,,`);

    const jsonl = (await t.get(`/v1/batches/${batch.id}/results?format=jsonl`)).body.trim().split("\n").map((l) => JSON.parse(l));
    expect(jsonl.map((r) => [r.row, r.metadata.Take, r.status])).toEqual([
      [1, "A", "queued"],
      [2, "B", "queued"],
      [3, "C", "rejected"],
      [4, "D", "queued"],
      [5, "E", "rejected"],
      [6, "F", "queued"],
    ]);
  });

  it("with on_invalid=reject a real upload with a bad row enqueues nothing and creates no batch", async () => {
    const res = await t.upload(`/v1/batches?model=${T2A}`, EXCEL_CSV);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toHaveLength(2);
    expect(await t.queues.generate.count()).toBe(0);
    expect((await t.get("/v1/batches")).json().data).toEqual([]);
  });

  it("answers a malformed file with one clear 400", async () => {
    const unbalanced = await t.upload(`/v1/batches?model=${T2A}`, 'tags,duration\nok,30\n"open,30\n');
    expect(unbalanced.statusCode).toBe(400);
    expect(unbalanced.json().error).toMatchObject({ code: "malformed_file", message: expect.stringMatching(/unbalanced quote.*row 2/) });
    const noTags = await t.upload(`/v1/batches?model=${T2A}`, "genre,duration\nhouse,30\n");
    expect(noTags.json().error.message).toMatch(/no "tags" column/);
    expect(await t.queues.generate.count()).toBe(0);
  });

  it("refuses unknown media types and bad query values, in the error format with details", async () => {
    const pdf = await t.upload("/v1/batches", "x", "application/pdf");
    expect(pdf.statusCode).toBe(415);
    expect(pdf.json()).toEqual({ error: { code: "unsupported_media_type", message: expect.stringMatching(/text\/csv/), details: [] } });
    const bad = await t.upload("/v1/batches?on_invalid=maybe&model=nope", "tags\nx\n");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.map((d: any) => d.path).sort()).toEqual(["query.model", "query.on_invalid"]);
    const free = await t.upload("/v1/batches?max_cost_usd=0", "tags\nx\n");
    expect(free.json().error.details).toEqual([{ path: "query.max_cost_usd", message: "must be more than 0" }]);
    const malformed = await t.upload(`/v1/batches?model=${T2A}`, 'tags\n"open\n');
    expect(malformed.json().error).toMatchObject({ code: "malformed_file", details: [] });
  });

  it("answers a list cursor that no page gave out with 400 naming query.cursor", async () => {
    const res = await t.get("/v1/batches?cursor=garbage");
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([{ path: "query.cursor", message: expect.stringMatching(/next_cursor/) }]);
  });
});

describe("limits", () => {
  it("answers 413 naming the row limit and the byte limit, enqueueing nothing", async () => {
    await t.close();
    t = await makeApp({ maxRows: 5, maxBytes: 2_000 });
    const rows = await t.upload(`/v1/batches?model=${T2A}`, `tags\n${"x\n".repeat(6)}`);
    expect(rows.statusCode).toBe(413);
    expect(rows.json().error).toMatchObject({ code: "payload_too_large", message: expect.stringMatching(/more than 5 rows/) });
    const bytes = await t.upload(`/v1/batches?model=${T2A}`, `tags\n${"a long tag line\n".repeat(200)}`);
    expect(bytes.statusCode).toBe(413);
    expect(bytes.json().error.message).toMatch(/limit of 2000 bytes/);
    expect(await t.queues.generate.count()).toBe(0);
  });
});

describe("other upload forms", () => {
  it("takes NDJSON and a multipart file field", async () => {
    const ndjson = [JSON.stringify({ input: { tags: "a", duration: 10 }, metadata: { take: 1 } }), JSON.stringify({ model: T2A, input: { tags: "b", duration: 20 } })].join("\n");
    const res = await t.upload(`/v1/batches?model=${T2A}`, ndjson, "application/x-ndjson");
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ accepted: 2, estimated_cost_usd: 0.006, source: "ndjson" });

    const { body, contentType } = multipartBody("file", "drafts.csv", "tags,duration\nc,5\nd,5\n");
    const multi = await t.upload(`/v1/batches?model=${T2A}`, body, contentType);
    expect(multi.statusCode).toBe(201);
    expect(multi.json()).toMatchObject({ accepted: 2, source: "csv" });

    const missing = multipartBody("other", "x.csv", "tags\nx\n");
    const none = await t.upload(`/v1/batches?model=${T2A}`, missing.body, missing.contentType);
    expect(none.statusCode).toBe(400);
    expect(none.json().error.code).toBe("missing_file");
  });

  it("expands tag combos (JSON) and reports exact duplicates instead of paying twice", async () => {
    const res = await t.post("/v1/batches", {
      model: T2A,
      input: { tags: "instrumental", duration: 10, seed: 5 },
      axes: { genre: ["house", "jazz"], mood: ["dark", "bright"] },
      variations: 2,
      name: "combos",
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ total: 8, accepted: 8, duplicates: 0, name: "combos", source: "combos" });
    const csv = csvRows((await t.get(`/v1/batches/${res.json().id}/results`)).body);
    expect(csv[0]).toBe("row,variation,job_id,status,model,tags,duration,seed,genre,mood,cost_usd,audio_url,error_code,error_message,output_seed,output_duration_seconds");
    expect(csv[2]).toMatch(/^1,2,job_[0-9a-z]+-0000001-002,queued,.*,"instrumental, house, dark",10,6,house,dark,/);

    const dup = await t.upload(`/v1/batches?model=${T2A}`, "tags,seed,duration\nx,1,10\ny,1,10\nx,1,10.0\n");
    expect(dup.json()).toMatchObject({ total: 3, accepted: 2, duplicates: 1, duplicate_rows: [{ row: 3, variation: 1, duplicate_of: { row: 1, variation: 1 } }] });
    expect(await t.queues.generate.count()).toBe(8 + 2);
  });
});

describe("Idempotency-Key", () => {
  it("converges a retried upload on one complete batch, and refuses the key for a different file", async () => {
    const csv = `tags,duration\n${Array.from({ length: 30 }, (_, i) => `t${i},5`).join("\n")}\n`;
    const first = await t.upload(`/v1/batches?model=${T2A}`, csv, "text/csv", { "idempotency-key": "upload-1" });
    expect(first.statusCode).toBe(201);
    const id = first.json().id;
    // An upload that died half way: the batch is still enqueueing and some jobs never reached BullMQ.
    await t.batches.transition(id, { from: "*", to: "enqueueing" });
    for (const row of [3, 17, 30]) await t.queues.generate.remove(batchJobId(id, row));
    expect(await t.queues.generate.count()).toBe(27);

    const again = await t.upload(`/v1/batches?model=${T2A}`, csv, "text/csv", { "idempotency-key": "upload-1" });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id, status: "in_progress", accepted: 30 });
    expect(await t.queues.generate.count()).toBe(30);
    const done = await t.upload(`/v1/batches?model=${T2A}`, csv, "text/csv", { "idempotency-key": "upload-1" });
    expect(done.json()).toMatchObject({ id, accepted: 30 });
    expect((await t.get(`/v1/batches/${id}`)).json().counts.queued).toBe(30);

    const other = await t.upload(`/v1/batches?model=${T2A}`, "tags\nz\n", "text/csv", { "idempotency-key": "upload-1" });
    expect(other.statusCode).toBe(409);
    expect((await t.get("/v1/batches")).json().data).toHaveLength(1);
  });
});

async function uploadRows(rows: number, extra = "") {
  const csv = `tags,duration,take\n${Array.from({ length: rows }, (_, i) => `row ${i + 1}${extra},5,take-${i + 1}`).join("\n")}\n`;
  const res = await t.upload(`/v1/batches?model=${T2A}`, csv);
  expect(res.statusCode).toBe(201);
  return res.json().id as string;
}

async function finish(id: string, row: number, to: "completed" | "failed", extra: Record<string, unknown> = {}) {
  const jobId = batchJobId(id, row);
  await t.store.transition(jobId, { from: "*", to: "in_progress", set: { started_at: new Date(Date.now() - 2_000).toISOString() } });
  await t.store.transition(jobId, {
    from: "*",
    to,
    set: {
      finished_at: new Date().toISOString(),
      ...(to === "failed" ? { error: { code: "provider_rejected_input", exit_class: 65, retryable: false, message: "rejected" } } : {}),
      ...extra,
    },
  });
  return jobId;
}

describe("live state, cancel and retry", () => {
  it("reports progress, ETA and ledger spend, then completes with a finish time", async () => {
    const id = await uploadRows(4);
    await finish(id, 1, "completed", { cost_micro_usd: 1_000 });
    await t.ledger.reserve(`${batchJobId(id, 1)}#1`, 1_000, [GLOBAL_SCOPE, { kind: "batch", id }]);
    await t.ledger.settle(`${batchJobId(id, 1)}#1`, 1_000, { model: T2A, seconds: 5, batchId: id });
    const running = (await t.get(`/v1/batches/${id}`)).json();
    expect(running).toMatchObject({ status: "in_progress", spent_usd: 0.001, counts: { completed: 1, queued: 3 }, started_at: expect.any(String) });
    expect(running.eta_seconds).toBeGreaterThan(0);
    for (const row of [2, 3]) await finish(id, row, "completed");
    await finish(id, 4, "failed");
    const done = (await t.get(`/v1/batches/${id}`)).json();
    expect(done).toMatchObject({ status: "completed", eta_seconds: null, counts: { completed: 3, failed: 1 }, finished_at: expect.any(String) });
    const results = csvRows((await t.get(`/v1/batches/${id}/results`)).body);
    expect(results[1]).toMatch(/^1,.*,completed,.*,take-1,0.001,/);
    expect(results[4]).toMatch(/,failed,.*,provider_rejected_input,rejected,,$/);
  });

  it("cancels queued rows at once and flags running ones", async () => {
    const id = await uploadRows(5);
    const running = batchJobId(id, 2);
    await t.store.transition(running, { from: "*", to: "in_progress" });
    await finish(id, 1, "completed");
    const res = await t.post(`/v1/batches/${id}/cancel`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: "cancelling", counts: { cancelled: 3, in_progress: 1, completed: 1, queued: 0 } });
    expect(await t.queues.generate.getJob(batchJobId(id, 3))).toBeUndefined();
    expect((await t.store.get(running))?.cancel_requested).toBe(true);
    await t.store.transition(running, { from: "*", to: "cancelled" });
    expect((await t.get(`/v1/batches/${id}`)).json().status).toBe("cancelled");
    expect((await t.post(`/v1/batches/${id}/cancel`)).statusCode).toBe(200);
  });

  it("retries exactly the failed and cancelled rows as a linked batch, keeping row numbers and metadata", async () => {
    const id = await uploadRows(6);
    expect((await t.post(`/v1/batches/${id}/retry`)).statusCode).toBe(409);
    for (const row of [1, 3, 6]) await finish(id, row, "completed");
    for (const row of [2, 5]) await finish(id, row, "failed");
    await t.store.transition(batchJobId(id, 4), { from: "*", to: "cancelled" });
    const res = await t.post(`/v1/batches/${id}/retry`);
    expect(res.statusCode).toBe(201);
    const retry = res.json();
    expect(retry).toMatchObject({ retry_of: id, status: "in_progress", accepted: 3, total: 3, source: "retry", counts: { queued: 3 }, estimated_cost_usd: 0.003 });
    const rows = (await t.get(`/v1/batches/${retry.id}/results?format=jsonl`)).body.trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.row, r.input.tags, r.metadata.take])).toEqual([
      [2, "row 2", "take-2"],
      [4, "row 4", "take-4"],
      [5, "row 5", "take-5"],
    ]);
    expect(rows[0].job_id).toBe(batchJobId(retry.id, 2));
    expect((await t.get(`/v1/batches/${id}`)).json().retried_by).toBe(retry.id);
    const again = await t.post(`/v1/batches/${id}/retry`);
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(retry.id);
  });

  it("answers 404 for an unknown batch", async () => {
    expect((await t.get("/v1/batches/bat_nope")).statusCode).toBe(404);
    expect((await t.post("/v1/batches/bat_nope/cancel")).statusCode).toBe(404);
  });
});

describe("archive", () => {
  it("zips each completed row's audio as <row>-<job id>.<ext> with results.csv", async () => {
    const id = await uploadRows(3);
    const jobId = batchJobId(id, 2);
    const key = audioKey(jobId, "wav");
    const src = join(t.dir, "src.wav");
    await writeFile(src, Buffer.from("RIFF....WAVEfake audio"));
    await t.storage.putFile(key, src, { contentType: "audio/wav" });
    await finish(id, 2, "completed", {
      cost_micro_usd: 1_000,
      output: { storage_key: key, format: "wav", content_type: "audio/wav", duration_seconds: 5, bytes: 22, sha256: "x", seed: 9 },
    });
    const res = await t.get(`/v1/batches/${id}/archive`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/zip");
    const entries = readZip(res.rawPayload);
    expect([...entries.keys()]).toEqual([`2-${jobId}.wav`, "results.csv"]);
    expect(entries.get(`2-${jobId}.wav`)!.toString()).toBe("RIFF....WAVEfake audio");
    const results = csvRows(entries.get("results.csv")!.toString());
    expect(results).toHaveLength(4);
    expect(results[2]).toMatch(new RegExp(`^2,${jobId},completed,.*,take-2,0.001,http://127.0.0.1:8080/v1/jobs/${jobId}/audio\\?expires=\\d+&signature=[^,]+,,,9,5$`));
  });
});
