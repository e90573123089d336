import { newId } from "@acebatch/contracts";
import { uniquePrefix } from "@acebatch/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createJobStore, type NewJobRecord } from "./job-store.ts";

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await redis.quit();
});

const makeJob = (overrides: Partial<NewJobRecord> = {}, atMs = Date.now()): NewJobRecord => ({
  id: newId("job", atMs),
  model: "acestep-ai/ace-step/text-to-audio",
  input: { tags: "lo-fi", duration: 30, seed: -1 },
  created_at: new Date(atMs).toISOString(),
  ...overrides,
});

describe("job store", () => {
  it("creates a record once and round-trips every field type", async () => {
    const store = createJobStore({ redis, prefix: uniquePrefix("store") });
    const job = makeJob({ metadata: { row: 3, take: "a" }, webhook_url: "https://hooks.example/x" });
    const first = await store.create(job);
    const again = await store.create({ ...job, input: { tags: "other" } });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    const rec = await store.get(job.id);
    expect(rec).toMatchObject({ id: job.id, status: "queued", input: job.input, metadata: { row: 3, take: "a" }, attempts: 0, output: null, cancel_requested: false });
  });

  it("keeps a completed job's output as short fields, so the hash stays a compact listpack", async () => {
    const prefix = uniquePrefix("compact");
    const store = createJobStore({ redis, prefix });
    const job = makeJob();
    await store.create(job);
    const output = {
      storage_key: `jobs/${job.id}/original.wav`,
      format: "wav",
      content_type: "audio/wav",
      duration_seconds: 5.25,
      bytes: 160_044,
      sha256: "57a3679d37b53dfb68cb9ae0a685ea440cd5d006e3b594b66a82a0accd32a381",
      seed: 0,
    };
    await store.transition(job.id, { from: "*", to: "completed", set: { output, cost_micro_usd: 1_000, request_id: "fc7b947f-7acb-478f-a851-05daf0af4361" } });
    expect((await store.get(job.id))?.output).toEqual(output);
    expect(await redis.object("ENCODING", store.keys.job(job.id))).toBe("listpack");

    // Clearing it leaves no output fields behind, and a null seed round-trips.
    await store.update(job.id, { output: null });
    expect((await store.get(job.id))?.output).toBeNull();
    await store.update(job.id, { output: { ...output, seed: null } });
    expect((await store.get(job.id))?.output).toEqual({ ...output, seed: null });
  });

  it("leaves out fields other packages keep on the record (the webhook marks)", async () => {
    const store = createJobStore({ redis, prefix: uniquePrefix("foreign") });
    const job = makeJob({ webhook_url: "https://hooks.example/x" });
    await store.create(job);
    await store.transition(job.id, { from: "*", to: "completed", set: { cost_micro_usd: 1_000 } });
    const before = await store.get(job.id);
    await redis.hset(store.keys.job(job.id), "wh_claim", "completed", "wh_fanned", String(Date.now()));
    const after = await store.get(job.id);
    expect(after).toEqual(before);
    expect(Object.keys(after!)).not.toContain("wh_claim");
    expect((await store.getMany([job.id]))[0]).toEqual(before);
  });

  it("moves a job only from an allowed status and keeps the status index in step", async () => {
    const store = createJobStore({ redis, prefix: uniquePrefix("transition") });
    const job = makeJob();
    await store.create(job);
    expect(await store.transition(job.id, { from: ["queued"], to: "in_progress", set: { attempts: 1 } })).toEqual({ ok: true, previous: "queued" });
    expect(await store.transition(job.id, { from: ["queued"], to: "cancelled" })).toEqual({ ok: false, reason: "not_allowed", current: "in_progress" });
    expect(await store.transition("job_missing", { from: "*", to: "failed" })).toEqual({ ok: false, reason: "missing" });
    const queued = await store.list({ status: "queued", limit: 10 });
    const running = await store.list({ status: "in_progress", limit: 10 });
    expect(queued.records).toHaveLength(0);
    expect(running.records.map((r) => r.id)).toEqual([job.id]);
    expect((await store.get(job.id))?.attempts).toBe(1);
  });

  it("keeps per-batch counts as jobs change status", async () => {
    const store = createJobStore({ redis, prefix: uniquePrefix("counts") });
    const batchId = newId("batch");
    const jobs = [makeJob({ batch_id: batchId }), makeJob({ batch_id: batchId }), makeJob({ batch_id: batchId })];
    for (const j of jobs) await store.create(j);
    await store.transition(jobs[0]!.id, { from: "*", to: "in_progress" });
    await store.transition(jobs[0]!.id, { from: "*", to: "completed" });
    await store.transition(jobs[1]!.id, { from: "*", to: "failed" });
    expect(await store.batchCounts(batchId)).toEqual({ queued: 1, in_progress: 0, completed: 1, failed: 1 });
  });

  it("pages newest first with an exact cursor", async () => {
    const store = createJobStore({ redis, prefix: uniquePrefix("paging") });
    const base = Date.parse("2026-01-01T00:00:00Z");
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const job = makeJob({}, base + i * 1000);
      ids.push(job.id);
      await store.create(job);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ limit: 3, cursor });
      seen.push(...page.records.map((r) => r.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it("filters by status within a batch", async () => {
    const store = createJobStore({ redis, prefix: uniquePrefix("filter") });
    const batchId = newId("batch");
    const a = makeJob({ batch_id: batchId });
    const b = makeJob({ batch_id: batchId });
    await store.create(a);
    await store.create(b);
    await store.create(makeJob());
    await store.transition(b.id, { from: "*", to: "failed" });
    const failed = await store.list({ batch_id: batchId, status: "failed", limit: 10 });
    expect(failed.records.map((r) => r.id)).toEqual([b.id]);
    expect(failed.nextCursor).toBeNull();
  });
});

describe("submit claims", () => {
  it("give one holder at a time the right to submit, and a lapsed claim that was sending reads stale", async () => {
    const store = createJobStore({ redis, prefix: uniquePrefix("claim") });
    const job = makeJob();
    await store.create(job);
    expect(await store.claimSubmit(job.id, 60_000, "a")).toBe("ok");
    expect(await store.claimSubmit(job.id, 60_000, "b")).toBe("busy");
    expect(await store.updateSubmitClaim(job.id, "a", { submit_state: "submitting" }, { renewLeaseMs: 1 })).toBe(true);
    await new Promise((r) => setTimeout(r, 5));
    expect(await store.claimSubmit(job.id, 60_000, "b")).toBe("stale");
    expect(await store.claimSubmit("job_missing", 60_000, "c")).toBe("missing");
  });

  it("let only the current token write under the claim, renew its lease, and nothing after it ends", async () => {
    const store = createJobStore({ redis, prefix: uniquePrefix("claim-fence") });
    const job = makeJob();
    await store.create(job);
    await store.claimSubmit(job.id, 1, "a");
    await new Promise((r) => setTimeout(r, 5));
    // a's lease lapsed before it sent anything: b's claim is a fresh one, and a is fenced off.
    expect(await store.claimSubmit(job.id, 60_000, "b")).toBe("ok");
    expect(await store.updateSubmitClaim(job.id, "a", { submit_state: "submitting" })).toBe(false);
    expect((await store.get(job.id))!.submit_state).toBe("claimed");

    const before = (await store.get(job.id))!.submit_lease_until!;
    await new Promise((r) => setTimeout(r, 5));
    expect(await store.updateSubmitClaim(job.id, "b", { submits: 1 }, { renewLeaseMs: 60_000 })).toBe(true);
    expect((await store.get(job.id))!.submit_lease_until!).toBeGreaterThan(before);

    expect(await store.updateSubmitClaim(job.id, "b", { request_id: "req-1", submit_state: "submitted" }, { end: true })).toBe(true);
    expect(await store.updateSubmitClaim(job.id, "b", { request_id: "req-2" })).toBe(false);
    expect(await redis.hexists(store.keys.job(job.id), "submit_token")).toBe(0);
    expect(await store.get(job.id)).toMatchObject({ request_id: "req-1", submit_state: "submitted", submits: 1 });
    expect(await store.claimSubmit(job.id, 60_000, "c")).toBe("submitted");
  });
});
