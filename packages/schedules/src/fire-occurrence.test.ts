import { loadPrices } from "@acebatch/pricing";
import { createJobStore, createQueues, type JobStore, type Queues } from "@acebatch/queue";
import { uniquePrefix } from "@acebatch/testing";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { fireOccurrence, type OccurrenceDeps } from "./fire-occurrence.ts";
import { scheduleDefinitionSchema } from "./schedule-schema.ts";
import { createScheduleStore, type ScheduleStore } from "./schedule-store.ts";

let redis: Redis;
let queueRedis: Redis;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 });
  queueRedis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await redis.quit();
  await queueRedis.quit();
});

let schedules: ScheduleStore;
let jobs: JobStore;
let queues: Queues;
let deps: OccurrenceDeps;
beforeEach(() => {
  const prefix = uniquePrefix("fire");
  schedules = createScheduleStore({ redis, prefix });
  jobs = createJobStore({ redis, prefix });
  queues = createQueues(queueRedis, { prefix, maxAttempts: 1 });
  deps = { schedules, jobs, queues, prices: loadPrices() };
});
afterEach(async () => {
  await queues.generate.obliterate({ force: true });
  await queues.close();
});

const T0 = Date.parse("2027-03-01T12:00:00Z");
let counter = 0;
/** A schedule every 2 s from T0 with a 3-entry rotation; 10 s of base text-to-audio ≈ $0.002 a run. */
async function makeSchedule(over: Record<string, unknown> = {}) {
  const spec = scheduleDefinitionSchema.parse({
    name: "loops",
    every_seconds: 2,
    model: "acestep-ai/ace-step/text-to-audio",
    input: { duration: 10, seed: 500 },
    seed_strategy: "increment",
    tags_rotation: ["lo-fi", "jazz", "ambient"],
    ...over,
  });
  const id = `sch_${String(++counter).padStart(26, "0")}`;
  await schedules.create({ id, spec, anchor_ms: T0, created_at: new Date(T0).toISOString() });
  return id;
}
const fire = (scheduleId: string, k: number, nowMs = T0 + k * 2_000 + 20, trigger: "schedule" | "manual" = "schedule") =>
  fireOccurrence(deps, { scheduleId, scheduledMs: T0 + k * 2_000, trigger, nowMs });
const rowOf = async (p: ReturnType<typeof fire>) => {
  const r = await p;
  if (r.status !== "decided") throw new Error("schedule missing");
  return r.row;
};
const finish = (jobId: string) => jobs.transition(jobId, { from: "*", to: "completed" });

describe("fireOccurrence", () => {
  it("makes exactly one job for one occurrence, however many workers fire it at once", async () => {
    const id = await makeSchedule({ overlap: "allow" });
    const results = await Promise.all(Array.from({ length: 12 }, () => rowOf(fire(id, 0))));
    const jobIds = new Set(results.map((r) => r.job_id));
    expect(jobIds.size).toBe(1);
    const jobId = [...jobIds][0]!;
    expect(await schedules.history(id)).toHaveLength(1);
    expect((await jobs.list({ schedule_id: id, limit: 50 })).records.map((r) => r.id)).toEqual([jobId]);
    expect(await queues.generate.getJob(jobId)).toBeTruthy();
    expect((await schedules.get(id))!.runs_total).toBe(1);
  });

  it("converges after a crash between deciding and creating the job: the retry creates the same job", async () => {
    const id = await makeSchedule();
    const first = await rowOf(fire(id, 0));
    // As if the worker died right after the claim: no record, no queued job.
    await redis.del(jobs.keys.job(first.job_id!));
    await queues.generate.remove(first.job_id!);
    const retry = await fire(id, 0, T0 + 30_000);
    expect(retry).toMatchObject({ status: "decided", replay: true, row: { job_id: first.job_id, outcome: "enqueued" } });
    expect(await jobs.get(first.job_id!)).toMatchObject({ schedule_id: id, input: { tags: "lo-fi", seed: 500 } });
    expect(await queues.generate.getJob(first.job_id!)).toBeTruthy();
    expect(await schedules.history(id)).toHaveLength(1);
  });

  it("cycles the rotation and increments the seed per run, and a skipped occurrence takes neither", async () => {
    const id = await makeSchedule();
    const seen: [string | null, string, number][] = [];
    for (let k = 0; k < 5; k++) {
      const row = await rowOf(fire(id, k));
      seen.push([row.outcome, row.tags, row.seed]);
      // Occurrence 2 overlaps the still-queued run 1; then everything finishes in time.
      if (row.job_id && k !== 1) await finish(row.job_id);
    }
    expect(seen).toEqual([
      ["enqueued", "lo-fi", 500],
      ["enqueued", "jazz", 501],
      ["skipped_overlap", "ambient", 502],
      ["skipped_overlap", "ambient", 502],
      ["skipped_overlap", "ambient", 502],
    ]);
    const list = await jobs.list({ schedule_id: id, limit: 10 });
    expect(list.records.map((r) => [r.input.tags, r.input.seed])).toEqual([
      ["jazz", 501],
      ["lo-fi", 500],
    ]);
  });

  it("overlap skip: occurrences while the previous run is queued, waiting for budget or in progress create no job", async () => {
    const id = await makeSchedule();
    const first = await rowOf(fire(id, 0));
    for (const [k, status] of [[1, "queued"], [2, "waiting_budget"], [3, "in_progress"]] as const) {
      await jobs.transition(first.job_id!, { from: "*", to: status });
      const row = await rowOf(fire(id, k));
      expect(row).toMatchObject({ outcome: "skipped_overlap", job_id: null, blocking_job_id: first.job_id, blocking_job_status: status });
    }
    await finish(first.job_id!);
    expect((await rowOf(fire(id, 4))).outcome).toBe("enqueued");
    expect((await jobs.list({ schedule_id: id, limit: 10 })).records).toHaveLength(2);
    expect((await schedules.history(id)).map((r) => r.outcome)).toEqual(["enqueued", "skipped_overlap", "skipped_overlap", "skipped_overlap", "enqueued"]);
  });

  it("overlap allow: runs while the previous one is still in flight", async () => {
    const id = await makeSchedule({ overlap: "allow" });
    const rows = [await rowOf(fire(id, 0)), await rowOf(fire(id, 1))];
    expect(rows.map((r) => r.outcome)).toEqual(["enqueued", "enqueued"]);
    expect(rows[0]!.job_id).not.toBe(rows[1]!.job_id);
  });

  it("records skipped_budget and spends nothing when a run's estimate exceeds max_cost_per_run_usd", async () => {
    const id = await makeSchedule({ max_cost_per_run_usd: 0.001 });
    const row = await rowOf(fire(id, 0));
    expect(row).toMatchObject({ outcome: "skipped_budget", reason: "per_run_cap", job_id: null, estimated_cost_micro_usd: 2_000, cap_micro_usd: 1_000 });
    expect((await jobs.list({ schedule_id: id, limit: 10 })).records).toHaveLength(0);
    expect(await queues.generate.count()).toBe(0);
    expect((await schedules.get(id))!).toMatchObject({ runs_total: 0, rotation_index: 0, occurrences_total: 1 });
  });

  it("counts estimated spend per calendar period and skips runs that would pass max_cost_per_period_usd", async () => {
    const id = await makeSchedule({ overlap: "allow", max_cost_per_period_usd: 0.005, budget_period: "day", timezone: "UTC" });
    const outcomes: string[] = [];
    for (let k = 0; k < 4; k++) outcomes.push((await rowOf(fire(id, k))).outcome);
    expect(outcomes).toEqual(["enqueued", "enqueued", "skipped_budget", "skipped_budget"]);
    expect(await schedules.periodSpend(id, "d:2027-03-01@UTC")).toBe(4_000);
    // The next day starts a new period.
    const nextDay = await rowOf(fireOccurrence(deps, { scheduleId: id, scheduledMs: T0 + 86_400_000, trigger: "schedule", nowMs: T0 + 86_400_000 }));
    expect(nextDay).toMatchObject({ outcome: "enqueued", period_key: "d:2027-03-02@UTC" });
  });

  it("marks an occurrence that ran after the next one was due as caught_up, and an older one after it as superseded", async () => {
    const id = await makeSchedule({ overlap: "allow" });
    // Occurrence 0 was due at T0; nothing ran until T0 + 9 s (workers down).
    const late = await rowOf(fire(id, 0, T0 + 9_000));
    expect(late).toMatchObject({ outcome: "caught_up", caught_up: true, late_ms: 9_000 });
    expect(late.job_id).toBeTruthy();
    const next = await rowOf(fire(id, 5, T0 + 10_050));
    expect(next.outcome).toBe("enqueued");
    // A crashed worker's occurrence 3, re-run only now: it would be a second catch-up.
    const stale = await rowOf(fire(id, 3, T0 + 40_000));
    expect(stale).toMatchObject({ outcome: "skipped_superseded", job_id: null });
  });

  it("skips scheduled occurrences of a disabled schedule but runs a manual one", async () => {
    const id = await makeSchedule({ enabled: false });
    expect((await rowOf(fire(id, 0))).outcome).toBe("skipped_disabled");
    const manual = await rowOf(fire(id, 0, T0 + 500, "manual"));
    expect(manual).toMatchObject({ outcome: "enqueued", trigger: "manual", tags: "lo-fi", run_number: 0 });
    expect(await jobs.get(manual.job_id!)).toMatchObject({ schedule_id: id, status: "queued" });
  });

  it("answers missing for a deleted schedule", async () => {
    const id = await makeSchedule();
    await schedules.remove(id);
    expect(await fire(id, 0)).toEqual({ status: "missing" });
  });
});
