import { newId } from "@acebatch/contracts";
import { uniquePrefix } from "@acebatch/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { batchJobId, batchJobRef, batchRowOrder, createBatchStore, type BatchRecord } from "./batch-store.ts";
import { createJobStore } from "./job-store.ts";

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await redis.quit();
});

const makeBatch = (overrides: Partial<BatchRecord> = {}): BatchRecord => ({
  id: newId("batch"),
  name: "drafts",
  status: "enqueueing",
  source: "csv",
  default_model: "acestep-ai/ace-step/text-to-audio",
  on_invalid: "skip",
  total: 3,
  accepted: 2,
  rejected: 1,
  duplicates: 0,
  estimated_cost_micro_usd: 24_000,
  estimated_seconds: 120,
  max_cost_micro_usd: null,
  key_id: null,
  webhook_url: null,
  retry_of: null,
  retried_by: null,
  input_columns: ["tags", "duration"],
  metadata_columns: ["Take"],
  has_variations: false,
  created_at: new Date().toISOString(),
  enqueued_at: null,
  processing_started_at: null,
  cancel_requested_at: null,
  finished_at: null,
  ...overrides,
});

describe("batch job ids", () => {
  it("are deterministic, lex-ordered like rows and variations, and decode back", () => {
    const batch = newId("batch");
    const ids = [batchJobId(batch, 2), batchJobId(batch, 2, 2), batchJobId(batch, 10), batchJobId(batch, 100_000), batchJobId(batch, 9, 12)];
    expect(batchJobId(batch, 2)).toBe(ids[0]);
    expect([...ids].sort()).toEqual([ids[0], ids[1], ids[4], ids[2], ids[3]]);
    expect(ids.map(batchJobRef)).toEqual([
      { row: 2, variation: 1 },
      { row: 2, variation: 2 },
      { row: 10, variation: 1 },
      { row: 100_000, variation: 1 },
      { row: 9, variation: 12 },
    ]);
    expect(ids[0]).toMatch(/^job_[0-9a-z]{26}-0000002$/);
    expect(batchJobRef(newId("job"))).toBeNull();
  });
});

describe("batch store", () => {
  it("creates a record once, round-trips every field and lists newest first", async () => {
    const store = createBatchStore({ redis, prefix: uniquePrefix("batches") });
    const older = makeBatch({ id: newId("batch", Date.now() - 1_000) });
    const batch = makeBatch({ max_cost_micro_usd: 5_000_000, has_variations: true });
    expect((await store.create(older)).created).toBe(true);
    expect((await store.create(batch)).created).toBe(true);
    const again = await store.create({ ...batch, name: "other" });
    expect(again).toEqual({ created: false, record: batch });
    expect(await store.get(batch.id)).toEqual(batch);
    const page = await store.list(1);
    expect(page.records.map((b) => b.id)).toEqual([batch.id]);
    expect((await store.list(10, page.nextCursor!)).records.map((b) => b.id)).toEqual([older.id]);
  });

  it("moves status only from allowed states and claims a field once", async () => {
    const store = createBatchStore({ redis, prefix: uniquePrefix("batch-status") });
    const batch = makeBatch();
    await store.create(batch);
    expect(await store.transition(batch.id, { from: ["enqueueing"], to: "in_progress", set: { enqueued_at: "t1" } })).toEqual({ ok: true, previous: "enqueueing" });
    expect(await store.transition(batch.id, { from: ["enqueueing"], to: "cancelled" })).toEqual({ ok: false, current: "in_progress" });
    expect(await store.transition("bat_missing", { from: "*", to: "cancelled" })).toEqual({ ok: false, current: null });
    expect(await store.claimField(batch.id, "retried_by", "bat_a")).toBe("bat_a");
    expect(await store.claimField(batch.id, "retried_by", "bat_b")).toBe("bat_a");
    expect(await store.get(batch.id)).toMatchObject({ status: "in_progress", enqueued_at: "t1", retried_by: "bat_a" });
  });

  it("reads the record with the job store's O(1) counters and pages job ids in row order", async () => {
    const prefix = uniquePrefix("batch-jobs");
    const store = createBatchStore({ redis, prefix });
    const jobs = createJobStore({ redis, prefix });
    const batch = makeBatch();
    await store.create(batch);
    for (const row of [3, 1, 2]) {
      await jobs.create({ id: batchJobId(batch.id, row), batch_id: batch.id, model: "acestep-ai/ace-step/text-to-audio", input: { tags: "x" }, created_at: "t" });
    }
    await jobs.transition(batchJobId(batch.id, 2), { from: "*", to: "completed" });
    const { record, counts } = await store.getWithCounts(batch.id);
    expect(record?.id).toBe(batch.id);
    expect(counts).toEqual({ queued: 2, completed: 1 });
    const first = await store.jobIds(batch.id, 2);
    expect(first.map((id) => batchJobRef(id)!.row)).toEqual([1, 2]);
    expect((await store.jobIds(batch.id, 2, first[1])).map((id) => batchJobRef(id)!.row)).toEqual([3]);
    expect((await store.lastJobIds(batch.id, 1)).map((id) => batchJobRef(id)!.row)).toEqual([3]);
  });

  it("stages rows in order and drops them", async () => {
    const store = createBatchStore({ redis, prefix: uniquePrefix("batch-staging") });
    await store.stage("t1", ["a", "b"]);
    await store.stage("t1", ["c"]);
    expect(await store.staged("t1", 1, 5)).toEqual(["b", "c"]);
    await store.dropStaging("t1");
    expect(await store.staged("t1", 0, 5)).toEqual([]);
  });

  it("keeps a batch's webhook_url, and reads a record written before that field as having none", async () => {
    const prefix = uniquePrefix("batch-webhook");
    const store = createBatchStore({ redis, prefix });
    const withHook = makeBatch({ webhook_url: "https://hooks.example/b" });
    await store.create(withHook);
    expect((await store.get(withHook.id))?.webhook_url).toBe("https://hooks.example/b");
    const old = makeBatch();
    await store.create(old);
    await redis.hdel(store.keys.batch(old.id), "webhook_url");
    expect((await store.get(old.id))?.webhook_url).toBeNull();
  });

  it("stages rows without a job out of order, hands them to the batch, and pages them back in row order", async () => {
    const store = createBatchStore({ redis, prefix: uniquePrefix("batch-no-job") });
    const entry = (row: number, variation: number) => ({ order: batchRowOrder(row, variation), member: `${row}/${variation}` });
    await store.stageRowsWithoutJob("t1", [entry(7, 0), entry(2, 3)]);
    await store.stageRowsWithoutJob("t1", [entry(2, 0), entry(5, 1)]);
    await store.commitRowsWithoutJob("t1", "bat_a");
    const first = await store.rowsWithoutJob("bat_a", 3);
    expect(first.map((e) => e.member)).toEqual(["2/0", "2/3", "5/1"]);
    expect((await store.rowsWithoutJob("bat_a", 3, first.at(-1)!.order)).map((e) => e.member)).toEqual(["7/0"]);
    expect(await redis.ttl(store.keys.batchRowsWithoutJob("bat_a"))).toBe(-1);

    await store.stageRowsWithoutJob("t2", [entry(1, 0)]);
    await store.dropStaging("t2");
    await store.commitRowsWithoutJob("t2", "bat_b");
    expect(await store.rowsWithoutJob("bat_b", 10)).toEqual([]);
  });

  it("creates many batch jobs exactly as the job store would, once", async () => {
    const prefix = uniquePrefix("batch-create-jobs");
    const store = createBatchStore({ redis, prefix });
    const jobs = createJobStore({ redis, prefix });
    const batch = newId("batch");
    const make = (row: number) => ({
      id: batchJobId(batch, row),
      model: "acestep-ai/ace-step/text-to-audio" as const,
      input: { tags: `row ${row}`, duration: 30, seed: -1 },
      metadata: { take: String(row) },
      estimated_cost_micro_usd: 6_000,
      created_at: "2026-01-01T00:00:00.000Z",
    });
    await jobs.create({ ...make(1), batch_id: batch });
    await jobs.transition(batchJobId(batch, 1), { from: "*", to: "completed" });
    expect(await store.createJobs(batch, [make(1), make(2), make(3)])).toEqual(["completed", "created", "created"]);
    expect(await store.createJobs(batch, [make(2)])).toEqual(["queued"]);
    // Byte for byte what JobStore.create writes for the same job.
    const other = uniquePrefix("batch-create-jobs-ref");
    await createJobStore({ redis, prefix: other }).create({ ...make(2), batch_id: batch });
    expect(await redis.hgetall(`${prefix}:job:${batchJobId(batch, 2)}`)).toEqual(await redis.hgetall(`${other}:job:${batchJobId(batch, 2)}`));
    expect(await jobs.get(batchJobId(batch, 3))).toMatchObject({ status: "queued", batch_id: batch, metadata: { take: "3" }, attempts: 0, cancel_requested: false });
    expect(await jobs.batchCounts(batch)).toEqual({ queued: 2, completed: 1 });
    expect((await jobs.list({ status: "queued", limit: 10 })).records.map((r) => r.id)).toEqual([batchJobId(batch, 3), batchJobId(batch, 2)]);
    expect((await jobs.list({ limit: 10 })).records.map((r) => r.id)).toEqual([3, 2, 1].map((row) => batchJobId(batch, row)));
    expect(await store.jobIds(batch, 10)).toEqual([1, 2, 3].map((row) => batchJobId(batch, row)));
  });

  it("creates a batch bigger than one script call holds, every record and index entry once", async () => {
    const prefix = uniquePrefix("batch-create-many");
    const store = createBatchStore({ redis, prefix });
    const jobs = createJobStore({ redis, prefix });
    const batch = newId("batch");
    const rows = Array.from({ length: 4_500 }, (_, i) => ({
      id: batchJobId(batch, i + 1),
      model: "acestep-ai/ace-step/text-to-audio" as const,
      input: { tags: `row ${i + 1}`, duration: 30, seed: -1 },
      metadata: {},
      estimated_cost_micro_usd: null,
      created_at: "2026-01-01T00:00:00.000Z",
    }));
    const outcomes = await store.createJobs(batch, rows);
    expect(outcomes).toHaveLength(4_500);
    expect(outcomes.every((o) => o === "created")).toBe(true);
    expect(await store.createJobs(batch, rows.slice(1_999, 2_001))).toEqual(["queued", "queued"]);
    expect(await jobs.batchCounts(batch)).toEqual({ queued: 4_500 });
    expect(await redis.zcard(`${prefix}:jobs:batch:${batch}`)).toBe(4_500);
    expect(await redis.zcard(`${prefix}:jobs:status:queued`)).toBe(4_500);
    expect(await jobs.get(batchJobId(batch, 4_500))).toMatchObject({ status: "queued", batch_id: batch, estimated_cost_micro_usd: null });
  });
});
