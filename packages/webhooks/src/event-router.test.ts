import { newId } from "@acebatch/contracts";
import { createBatchStore, createJobStore, createKeys, type BatchRecord, type NewJobRecord } from "@acebatch/queue";
import { uniquePrefix } from "@acebatch/testing";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { createDeliveryStore } from "./delivery-store.ts";
import { createWebhookQueue, type WebhookQueue } from "./delivery-queue.ts";
import { createEndpointStore } from "./endpoint-store.ts";
import { createEventRouter } from "./event-router.ts";
import { deliveryId, eventId, urlDestinationKey } from "./events.ts";
import { claimJobStatus, markJobFanned } from "./job-marks.ts";
import { webhookKeys } from "./keys.ts";

let redis: Redis;
const queues: WebhookQueue[] = [];
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 });
});
afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.close()));
});
afterAll(async () => {
  await redis.quit();
});

const makeJob = (overrides: Partial<NewJobRecord> = {}, atMs = Date.now()): NewJobRecord => ({
  id: newId("job", atMs),
  model: "acestep-ai/ace-step/text-to-audio",
  input: { tags: "lo-fi", duration: 5 },
  created_at: new Date(atMs).toISOString(),
  ...overrides,
});

const makeBatch = (overrides: Partial<BatchRecord> = {}): BatchRecord => ({
  id: newId("batch"),
  name: "drafts",
  status: "in_progress",
  source: "csv",
  default_model: "acestep-ai/ace-step/text-to-audio",
  on_invalid: "reject",
  total: 2,
  accepted: 2,
  rejected: 0,
  duplicates: 0,
  estimated_cost_micro_usd: 2_000,
  estimated_seconds: 10,
  max_cost_micro_usd: null,
  key_id: null,
  webhook_url: null,
  retry_of: null,
  retried_by: null,
  input_columns: ["tags"],
  metadata_columns: [],
  has_variations: false,
  created_at: new Date().toISOString(),
  enqueued_at: new Date().toISOString(),
  processing_started_at: null,
  cancel_requested_at: null,
  finished_at: null,
  ...overrides,
});

function setup(label: string) {
  const prefix = uniquePrefix(label);
  const queue = createWebhookQueue(redis, prefix);
  queues.push(queue);
  const endpoints = createEndpointStore({ redis, prefix });
  const deliveries = createDeliveryStore({ redis, prefix });
  const router = createEventRouter({ redis, prefix, endpoints, deliveries, queue, publicBaseUrl: "http://api.test", batchSpentMicroUsd: async () => 1_234 });
  const jobs = createJobStore({ redis, prefix });
  const pending = async () => (await deliveries.list("pending", 100)).records;
  const statusMessage = (jobId: string, from: string, to: string, batchId = "") => JSON.stringify({ type: "job.status", job_id: jobId, from, to, batch_id: batchId });
  const record = (jobId: string) => redis.hgetall(createKeys(prefix).job(jobId));
  /** Webhook keys a finished job could have left behind (the marks belong on its record). */
  const strayKeys = async () => [
    ...(await redis.keys(`${prefix}:webhooks:claim:*`)),
    ...(await redis.keys(`${prefix}:webhooks:fanned-jobs`)),
  ];
  return { prefix, queue, endpoints, deliveries, router, jobs, pending, statusMessage, record, strayKeys };
}

describe("event router", () => {
  it("fans a finished job out to its own URL and to subscribed endpoints, once", async () => {
    const t = setup("router-job");
    const all = await t.endpoints.create({ url: "https://all.example/hook", events: ["job.completed", "job.failed"] });
    await t.endpoints.create({ url: "https://batches.example/hook", events: ["batch.completed"] });
    const job = makeJob({ webhook_url: "https://own.example/hook" });
    await t.jobs.create(job);
    await t.jobs.transition(job.id, { from: "*", to: "completed", set: { cost_micro_usd: 1_000, finished_at: new Date().toISOString() } });

    await t.router.handleMessage(t.statusMessage(job.id, "in_progress", "completed"));
    await t.router.handleMessage(t.statusMessage(job.id, "in_progress", "completed"));
    await t.router.jobFinished(job.id);

    const records = await t.pending();
    expect(records.map((r) => r.url).sort()).toEqual(["https://all.example/hook", "https://own.example/hook"]);
    const evt = eventId(`${job.id}:job.completed`);
    const own = records.find((r) => r.url === "https://own.example/hook")!;
    expect(own.id).toBe(deliveryId(evt, urlDestinationKey("https://own.example/hook")));
    expect(JSON.parse(own.body)).toMatchObject({ type: "job.completed", id: evt, data: { id: job.id, status: "completed", cost_usd: 0.001 } });
    expect(records.find((r) => r.endpoint_id === all!.id)).toBeTruthy();
    expect(await t.queue.getJobCounts("wait", "delayed", "prioritized")).toMatchObject({ wait: 2 });
    expect(await t.queue.getJob(own.id)).toBeTruthy();

    // The claim and the fanned-out mark are fields of the job's record, not keys of their own,
    // the record stays a listpack, and the job as read back does not show them.
    expect(await t.strayKeys()).toEqual([]);
    const hash = await t.record(job.id);
    expect(hash.wh_claim).toBe("completed");
    expect(Number(hash.wh_fanned)).toBeGreaterThan(Date.now() - 60_000);
    expect(await redis.object("ENCODING", createKeys(t.prefix).job(job.id))).toBe("listpack");
    const rec = await t.jobs.get(job.id);
    expect(rec).not.toHaveProperty("wh_claim");
    expect(rec).not.toHaveProperty("wh_fanned");
  });

  it("lets exactly one of several dispatchers claim a job's status message, and never revives a deleted record", async () => {
    const t = setup("router-claim");
    const connections = Array.from({ length: 4 }, () => new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 }));
    try {
      const job = makeJob();
      await t.jobs.create(job);
      await t.jobs.transition(job.id, { from: "*", to: "completed" });
      const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => claimJobStatus(connections[i % 4]!, t.prefix, job.id, "completed")));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await claimJobStatus(redis, t.prefix, job.id, "completed")).toBe(false);

      // A record deleted meanwhile (retention) is neither claimed nor marked back into existence.
      const gone = makeJob();
      await t.jobs.create(gone);
      await t.jobs.transition(gone.id, { from: "*", to: "cancelled" });
      await redis.del(createKeys(t.prefix).job(gone.id));
      await redis.zadd(webhookKeys(t.prefix).watchJobs(), 0, gone.id);
      expect(await claimJobStatus(redis, t.prefix, gone.id, "cancelled")).toBe(false);
      await markJobFanned(redis, t.prefix, gone.id, Date.now());
      await t.router.handleMessage(t.statusMessage(gone.id, "queued", "cancelled"));
      expect(await redis.exists(createKeys(t.prefix).job(gone.id))).toBe(0);
      expect(await redis.zscore(webhookKeys(t.prefix).watchJobs(), gone.id)).toBeNull();
      expect(await t.strayKeys()).toEqual([]);
    } finally {
      await Promise.all(connections.map((c) => c.quit()));
    }
  });

  it("finds, by reconciliation, a job that finished while no dispatcher listened", async () => {
    const t = setup("router-reconcile");
    const job = makeJob({ webhook_url: "https://own.example/hook" });
    await t.jobs.create(job);
    await t.jobs.transition(job.id, { from: "*", to: "failed", set: { finished_at: new Date().toISOString() } });
    expect(await t.router.reconcile()).toEqual({ jobs: 1, batches: 0 });
    expect((await t.pending()).map((r) => r.event_type)).toEqual(["job.failed"]);
    expect(await t.router.reconcile()).toEqual({ jobs: 0, batches: 0 });
  });

  it("reconciles only the finished jobs whose record carries no fanned-out mark", async () => {
    const t = setup("router-reconcile-marks");
    const heard = makeJob({ webhook_url: "https://own.example/hook" });
    const missed = makeJob({ webhook_url: "https://own.example/hook" });
    for (const j of [heard, missed]) {
      await t.jobs.create(j);
      await t.jobs.transition(j.id, { from: "*", to: "completed", set: { finished_at: new Date().toISOString() } });
    }
    await t.router.handleMessage(t.statusMessage(heard.id, "in_progress", "completed"));
    expect((await t.pending()).map((r) => r.subject_id)).toEqual([heard.id]);
    expect(await t.record(missed.id)).not.toHaveProperty("wh_fanned");
    // A sorted set of marks left by an older version is dropped by the pass.
    await redis.zadd(`${t.prefix}:webhooks:fanned-jobs`, Date.now(), heard.id);

    expect(await t.router.reconcile()).toEqual({ jobs: 1, batches: 0 });
    expect((await t.pending()).map((r) => r.subject_id).sort()).toEqual([heard.id, missed.id].sort());
    expect(await t.record(missed.id)).toHaveProperty("wh_fanned");
    expect(await t.record(missed.id)).not.toHaveProperty("wh_claim");
    expect(await t.router.reconcile()).toEqual({ jobs: 0, batches: 0 });
    expect(await t.strayKeys()).toEqual([]);
  });

  it("watches long-lived jobs created before the look-back window until they finish", async () => {
    const t = setup("router-watch");
    const old = makeJob({ webhook_url: "https://own.example/hook" }, Date.now() - 30 * 3_600_000);
    await t.jobs.create(old);
    await t.jobs.transition(old.id, { from: "*", to: "waiting_budget" });
    expect(await t.router.reconcile()).toEqual({ jobs: 0, batches: 0 });
    expect(await redis.zscore(webhookKeys(t.prefix).watchJobs(), old.id)).not.toBeNull();
    await t.jobs.transition(old.id, { from: "*", to: "completed", set: { finished_at: new Date().toISOString() } });
    expect(await t.router.reconcile()).toEqual({ jobs: 1, batches: 0 });
    expect((await t.pending()).map((r) => r.subject_id)).toEqual([old.id]);
    // Marked on its record and no longer watched: the next pass finds nothing.
    expect(await t.record(old.id)).toHaveProperty("wh_fanned");
    expect(await redis.zscore(webhookKeys(t.prefix).watchJobs(), old.id)).toBeNull();
    expect(await t.router.reconcile()).toEqual({ jobs: 0, batches: 0 });
  });

  it("sends batch.completed once when the batch's last job finishes", async () => {
    const t = setup("router-batch");
    const batches = createBatchStore({ redis, prefix: t.prefix });
    const batch = makeBatch({ webhook_url: "https://batch.example/hook" });
    await batches.create(batch);
    await t.endpoints.create({ url: "https://all.example/hook", events: ["batch.completed"] });
    const jobs = [makeJob({ batch_id: batch.id }), makeJob({ batch_id: batch.id })];
    for (const j of jobs) await t.jobs.create(j);

    await t.jobs.transition(jobs[0]!.id, { from: "*", to: "completed" });
    await t.router.jobFinished(jobs[0]!.id);
    expect(await t.pending()).toEqual([]);
    await t.jobs.transition(jobs[1]!.id, { from: "*", to: "cancelled" });
    await t.router.jobFinished(jobs[1]!.id);
    await t.router.checkBatch(batch.id);

    const records = await t.pending();
    expect(records.map((r) => r.url).sort()).toEqual(["https://all.example/hook", "https://batch.example/hook"]);
    expect(JSON.parse(records[0]!.body)).toMatchObject({
      type: "batch.completed",
      data: { id: batch.id, status: "completed", counts: { completed: 1, cancelled: 1, queued: 0 }, spent_usd: 0.001234 },
    });
  });

  it("sends a batch whose jobs finished while it was still enqueueing once it is enqueued", async () => {
    const t = setup("router-batch-enq");
    const batches = createBatchStore({ redis, prefix: t.prefix });
    const batch = makeBatch({ status: "enqueueing", accepted: 1, total: 1 });
    await batches.create(batch);
    await t.endpoints.create({ url: "https://all.example/hook", events: ["batch.completed"] });
    const job = makeJob({ batch_id: batch.id });
    await t.jobs.create(job);
    await t.jobs.transition(job.id, { from: "*", to: "completed" });
    await t.router.jobFinished(job.id);
    expect(await t.pending()).toEqual([]);
    await batches.transition(batch.id, { from: ["enqueueing"], to: "in_progress" });
    expect(await t.router.reconcile()).toEqual({ jobs: 0, batches: 1 });
    expect((await t.pending()).map((r) => r.event_type)).toEqual(["batch.completed"]);
  });

  it("sends account-wide events only to endpoints subscribed to them", async () => {
    const t = setup("router-account");
    await t.endpoints.create({ url: "https://money.example/hook", events: ["budget.threshold"] });
    await t.endpoints.create({ url: "https://jobs.example/hook", events: ["job.completed"] });
    const raw = JSON.stringify({ type: "budget.threshold", scope: { kind: "global" }, percent: 80, at: "2026-01-01T00:00:00.000Z" });
    await t.router.handleMessage(raw);
    await t.router.handleMessage(raw);
    const records = await t.pending();
    expect(records.map((r) => r.url)).toEqual(["https://money.example/hook"]);
    expect(JSON.parse(records[0]!.body)).toMatchObject({ type: "budget.threshold", created_at: "2026-01-01T00:00:00.000Z", data: { scope: { kind: "global" }, percent: 80 } });
  });
});
