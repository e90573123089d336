import { createLogger } from "@acebatch/config";
import { loadPrices } from "@acebatch/pricing";
import { closeRedis, createJobStore, createQueues, createRedis } from "@acebatch/queue";
import { createScheduleStore, nextRunAfter, scheduleDefinitionSchema, syncScheduler, timingOf } from "@acebatch/schedules";
import { uniquePrefix, waitFor } from "@acebatch/testing";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, inject, it } from "vitest";
import { createScheduleWorker } from "./schedule-worker.ts";

const logger = createLogger({ name: "schedule-worker-test", level: "silent" });
const T2A = "acestep-ai/ace-step/text-to-audio";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const prefix = uniquePrefix("sched-worker");
  const redis = createRedis(inject("redisUrl"), "worker");
  const jobs = createJobStore({ redis, prefix });
  const queues = createQueues(redis, { prefix, maxAttempts: 1 });
  const schedules = createScheduleStore({ redis, prefix });
  const workers: ReturnType<typeof createScheduleWorker>[] = [];
  const connections: Redis[] = [redis];
  const startWorker = (reconcileIntervalMs = 60_000) => {
    // Each "process" has its own connection, as separate worker processes would.
    const own = createRedis(inject("redisUrl"), "worker");
    connections.push(own);
    const w = createScheduleWorker({ redis: own, prefix, jobs: createJobStore({ redis: own, prefix }), queues, prices: loadPrices(), logger, reconcileIntervalMs });
    workers.push(w);
    w.start();
    return w;
  };
  cleanups.push(async () => {
    for (const w of workers) await w.close(5_000);
    await queues.generate.obliterate({ force: true });
    await workers[0]?.queue.obliterate({ force: true }).catch(() => undefined);
    await queues.close();
    for (const c of connections) await closeRedis(c);
  });
  async function createSchedule(over: Record<string, unknown>) {
    const spec = scheduleDefinitionSchema.parse({ name: "t", model: T2A, input: { tags: "x", duration: 5 }, overlap: "allow", ...over });
    const id = `sch_${Date.now().toString(32)}${Math.random().toString(32).slice(2, 12)}`.padEnd(30, "0").slice(0, 30);
    const now = Date.now();
    await schedules.create({ id, spec, anchor_ms: spec.every_seconds ? now + spec.every_seconds * 1_000 : now, created_at: new Date(now).toISOString() });
    return id;
  }
  return { prefix, redis, jobs, queues, schedules, startWorker, createSchedule };
}

describe("schedule worker with BullMQ job schedulers", () => {
  it("turns each occurrence into exactly one job with two workers, on the grid, tags cycling", async () => {
    const s = await setup();
    const w1 = s.startWorker();
    s.startWorker();
    const id = await s.createSchedule({ every_seconds: 1, tags_rotation: ["a", "b", "c"] });
    await syncScheduler(w1.queue, id, await s.schedules.get(id), Date.now());
    await waitFor(async () => (await s.schedules.history(id)).length >= 5, { timeoutMs: 10_000, message: "5 occurrences" });
    const rec = (await s.schedules.get(id))!;
    const rows = (await s.schedules.history(id)).reverse();
    const times = rows.map((r) => Date.parse(r.scheduled_at));
    expect(new Set(times).size).toBe(times.length);
    for (const t of times) expect((t - rec.anchor_ms) % 1_000).toBe(0);
    const enqueued = rows.filter((r) => r.job_id);
    const jobs = (await s.jobs.list({ schedule_id: id, limit: 100 })).records;
    expect(jobs.map((j) => j.id).sort()).toEqual(enqueued.map((r) => r.job_id).sort());
    expect(enqueued.map((r) => r.tags)).toEqual(enqueued.map((_, i) => ["a", "b", "c"][i % 3]));
  });

  it("fires cron occurrences exactly at the times next_runs computes (6-field cron in a DST zone)", async () => {
    const s = await setup();
    const w = s.startWorker();
    const id = await s.createSchedule({ cron: "*/2 * * * * *", timezone: "America/New_York" });
    await syncScheduler(w.queue, id, await s.schedules.get(id), Date.now());
    await waitFor(async () => (await s.schedules.history(id)).length >= 3, { timeoutMs: 10_000, message: "3 cron occurrences" });
    const rec = (await s.schedules.get(id))!;
    const times = (await s.schedules.history(id)).reverse().map((r) => Date.parse(r.scheduled_at));
    for (let i = 1; i < times.length; i++) expect(times[i]).toBe(nextRunAfter(timingOf(rec.spec, rec.anchor_ms), times[i - 1]!));
  });

  it("reconciles: restores a lost job scheduler, removes one of a disabled or deleted schedule", async () => {
    const s = await setup();
    const w = s.startWorker();
    await w.reconcile(); // the one start() began
    const kept = await s.createSchedule({ cron: "0 9 * * *" });
    const paused = await s.createSchedule({ cron: "0 9 * * *", enabled: false });
    await syncScheduler(w.queue, paused, { ...(await s.schedules.get(paused))!, spec: { ...(await s.schedules.get(paused))!.spec, enabled: true } }, Date.now());
    await w.queue.upsertJobScheduler("sch_orphan", { pattern: "0 9 * * *" }, { name: "schedule-occurrence", data: { schedule_id: "sch_orphan" } });
    expect(await w.queue.getJobScheduler(kept)).toBeUndefined();
    expect(await w.reconcile()).toBe(3);
    expect(await w.queue.getJobScheduler(kept)).toMatchObject({ pattern: "0 9 * * *" });
    expect(await w.queue.getJobScheduler(paused)).toBeUndefined();
    expect(await w.queue.getJobScheduler("sch_orphan")).toBeUndefined();
    expect(await w.reconcile()).toBe(0);
  });
});
