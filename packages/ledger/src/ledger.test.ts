import { uniquePrefix } from "@acebatch/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createLedger } from "./ledger.ts";
import { GLOBAL_SCOPE, type BudgetScope } from "./scopes.ts";
import { LedgerConflictError } from "./types.ts";

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await redis.quit();
});

const MODEL = "acestep-ai/ace-step/text-to-audio";
const batch = (id: string): BudgetScope => ({ kind: "batch", id });
const facts = (overrides: Partial<Parameters<ReturnType<typeof createLedger>["settle"]>[2]> = {}) => ({
  model: MODEL,
  seconds: 10,
  ...overrides,
});

describe("reserve", () => {
  it("lets exactly as many concurrent reservations through as the limit fits, across connections", async () => {
    const prefix = uniquePrefix("ledger-race");
    const connections = Array.from({ length: 5 }, () => new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 }));
    try {
      const ledgers = connections.map((c) => createLedger({ redis: c, prefix }));
      // Ten-second jobs at $0.0002/s = 2000 micro-dollars; the limit fits exactly 17 of them.
      await ledgers[0]!.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 17 * 2000, period: "none", timezone: "UTC" });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => ledgers[i % ledgers.length]!.reserve(`job_race_${i}`, 2000, [GLOBAL_SCOPE])),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(17);
      const blocked = results.filter((r) => !r.ok);
      expect(blocked).toHaveLength(33);
      expect(blocked[0]).toMatchObject({ ok: false, blockedBy: GLOBAL_SCOPE, limitMicroUsd: 34_000, resetsAt: null });
      const budget = await ledgers[1]!.getBudget(GLOBAL_SCOPE);
      expect(budget).toMatchObject({ reservedMicroUsd: 34_000, spentMicroUsd: 0, remainingMicroUsd: 0 });
    } finally {
      await Promise.all(connections.map((c) => c.quit()));
    }
  });

  it("reserves on all scopes or on none", async () => {
    const ledger = createLedger({ redis, prefix: uniquePrefix("ledger-atomic") });
    await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 1_000_000, period: "none", timezone: "UTC" });
    await ledger.setBudget(batch("batch_a"), { limitMicroUsd: 5_000, period: "none", timezone: "UTC" });
    const scopes = [GLOBAL_SCOPE, batch("batch_a"), { kind: "key", id: "key_1" } as const];

    expect(await ledger.reserve("job_1", 4_000, scopes)).toMatchObject({ ok: true });
    const refused = await ledger.reserve("job_2", 4_000, scopes);
    expect(refused).toEqual({ ok: false, blockedBy: batch("batch_a"), limitMicroUsd: 5_000, spentMicroUsd: 0, reservedMicroUsd: 4_000, resetsAt: null });
    expect((await ledger.getBudget(GLOBAL_SCOPE)).reservedMicroUsd).toBe(4_000);
    expect((await ledger.getBudget(batch("batch_a"))).reservedMicroUsd).toBe(4_000);
    expect((await ledger.getBudget({ kind: "key", id: "key_1" })).reservedMicroUsd).toBe(4_000);
    expect(await ledger.reservation("job_2")).toBeNull();
  });

  it("counts spend on scopes without a budget and never blocks them", async () => {
    const ledger = createLedger({ redis, prefix: uniquePrefix("ledger-unlimited") });
    expect(await ledger.reserve("job_1", 9_000_000, [batch("b1")])).toMatchObject({ ok: true });
    expect(await ledger.getBudget(batch("b1"))).toMatchObject({ limitMicroUsd: null, reservedMicroUsd: 9_000_000, remainingMicroUsd: null, period: "none", periodKey: "all" });
  });

  it("is idempotent per job and refuses a stale attempt", async () => {
    const ledger = createLedger({ redis, prefix: uniquePrefix("ledger-idem") });
    await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 10_000, period: "none", timezone: "UTC" });
    expect(await ledger.reserve("job_1", 3_000, [GLOBAL_SCOPE], { attempt: 1 })).toEqual({ ok: true, alreadyReserved: false, alreadySettled: false });
    expect(await ledger.reserve("job_1", 3_000, [GLOBAL_SCOPE], { attempt: 1 })).toEqual({ ok: true, alreadyReserved: true, alreadySettled: false });
    expect((await ledger.getBudget(GLOBAL_SCOPE)).reservedMicroUsd).toBe(3_000);

    expect(await ledger.release("job_1")).toBe(true);
    expect(await ledger.release("job_1")).toBe(false);
    expect((await ledger.getBudget(GLOBAL_SCOPE)).reservedMicroUsd).toBe(0);

    await ledger.reserve("job_1", 3_000, [GLOBAL_SCOPE], { attempt: 2 });
    await ledger.release("job_1");
    await expect(ledger.reserve("job_1", 3_000, [GLOBAL_SCOPE], { attempt: 1 })).rejects.toBeInstanceOf(LedgerConflictError);
    expect((await ledger.getBudget(GLOBAL_SCOPE)).reservedMicroUsd).toBe(0);

    await ledger.reserve("job_1", 3_000, [GLOBAL_SCOPE], { attempt: 3 });
    expect((await ledger.settle("job_1", 3_000, facts())).settled).toBe(true);
    expect(await ledger.settle("job_1", 3_000, facts())).toEqual({ settled: false, thresholdsCrossed: [] });
    expect(await ledger.reserve("job_1", 3_000, [GLOBAL_SCOPE], { attempt: 4 })).toEqual({ ok: true, alreadyReserved: false, alreadySettled: true });
    expect(await ledger.release("job_1")).toBe(false);
    expect(await ledger.getBudget(GLOBAL_SCOPE)).toMatchObject({ spentMicroUsd: 3_000, reservedMicroUsd: 0 });
    expect(await ledger.totals()).toEqual({ jobs: 1, seconds: 10, costMicroUsd: 3_000 });
  });

  it("rejects amounts that are not whole micro-dollars", async () => {
    const ledger = createLedger({ redis, prefix: uniquePrefix("ledger-bad") });
    await expect(ledger.reserve("job_1", 1.5, [GLOBAL_SCOPE])).rejects.toThrow(/whole number of micro-dollars/);
    await expect(ledger.reserve("job_1", -1, [GLOBAL_SCOPE])).rejects.toThrow(/whole number/);
    await expect(ledger.reserve("job_1", 1, [])).rejects.toThrow(/at least one budget scope/);
    await expect(ledger.reserve("job_1", 1, [batch("a b")])).rejects.toThrow(/invalid batch id/);
  });
});

describe("settle", () => {
  it("moves the reservation to spent with the real cost", async () => {
    const ledger = createLedger({ redis, prefix: uniquePrefix("ledger-actual") });
    await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 10_000, period: "none", timezone: "UTC" });
    await ledger.reserve("job_1", 4_000, [GLOBAL_SCOPE, batch("b1")]);
    await ledger.reserve("job_2", 4_000, [GLOBAL_SCOPE, batch("b1")]);
    await ledger.settle("job_1", 3_100, facts({ seconds: 15.5, batchId: "b1" }));
    await ledger.settle("job_2", 4_600, facts({ seconds: 23, batchId: "b1" }));
    expect(await ledger.getBudget(GLOBAL_SCOPE)).toMatchObject({ spentMicroUsd: 7_700, reservedMicroUsd: 0, remainingMicroUsd: 2_300 });
    expect(await ledger.getBudget(batch("b1"))).toMatchObject({ spentMicroUsd: 7_700, reservedMicroUsd: 0 });
    expect(await ledger.reservation("job_2")).toMatchObject({ state: "settled", amountMicroUsd: null, actualMicroUsd: 4_600, scopes: [] });
  });

  it("leaves a settled record holding only its state and actual cost, and replays stay no-ops", async () => {
    const prefix = uniquePrefix("ledger-small");
    const ledger = createLedger({ redis, prefix });
    await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 10_000, period: "none", timezone: "UTC" });
    const record = (id: string) => redis.hgetall(`${prefix}:ledger:job:${id}`);
    // A live reservation, a released one, and none at all.
    await ledger.reserve("job_live#1", 4_000, [GLOBAL_SCOPE, batch("b1")], { attempt: 1 });
    await ledger.reserve("job_released#1", 2_000, [GLOBAL_SCOPE], { attempt: 1 });
    await ledger.release("job_released#1");
    expect(await record("job_released#1")).toHaveProperty("released_at");
    await ledger.settle("job_live#1", 3_100, facts({ batchId: "b1" }));
    await ledger.settle("job_released#1", 1_000, facts());
    await ledger.settle("job_none#1", 500, facts());
    expect(await record("job_live#1")).toEqual({ state: "settled", actual: "3100" });
    expect(await record("job_released#1")).toEqual({ state: "settled", actual: "1000" });
    expect(await record("job_none#1")).toEqual({ state: "settled", actual: "500" });
    expect(await ledger.reservation("job_live#1")).toEqual({
      jobId: "job_live#1",
      state: "settled",
      amountMicroUsd: null,
      actualMicroUsd: 3_100,
      attempt: null,
      scopes: [],
      reservedAt: null,
      releasedAt: null,
      settledAt: null,
    });

    // Settling again, reserving again (even for a newer attempt) and releasing change nothing.
    expect(await ledger.settle("job_live#1", 9_000, facts({ batchId: "b1" }))).toEqual({ settled: false, thresholdsCrossed: [] });
    expect(await ledger.reserve("job_live#1", 4_000, [GLOBAL_SCOPE], { attempt: 2 })).toEqual({ ok: true, alreadyReserved: false, alreadySettled: true });
    expect(await ledger.reserve("job_none#1", 4_000, [GLOBAL_SCOPE])).toEqual({ ok: true, alreadyReserved: false, alreadySettled: true });
    expect(await ledger.release("job_live#1")).toBe(false);
    expect(await record("job_live#1")).toEqual({ state: "settled", actual: "3100" });
    expect(await ledger.getBudget(GLOBAL_SCOPE)).toMatchObject({ spentMicroUsd: 4_600, reservedMicroUsd: 0 });
    expect(await ledger.getBudget(batch("b1"))).toMatchObject({ spentMicroUsd: 3_100, reservedMicroUsd: 0 });
    expect(await ledger.totals()).toEqual({ jobs: 3, seconds: 30, costMicroUsd: 4_600 });
  });

  it("still counts money spent without a live reservation, once", async () => {
    const ledger = createLedger({ redis, prefix: uniquePrefix("ledger-unreserved") });
    await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 10_000, period: "none", timezone: "UTC" });
    await ledger.reserve("job_released", 2_000, [GLOBAL_SCOPE, { kind: "key", id: "k1" }]);
    await ledger.release("job_released");
    // Paid output that arrived after the release, and one that never reserved.
    await ledger.settle("job_released", 2_000, facts());
    await ledger.settle("job_never", 1_500, facts({ batchId: "b9", scheduleId: "sch_1" }));
    await ledger.settle("job_never", 1_500, facts({ batchId: "b9", scheduleId: "sch_1" }));
    expect(await ledger.getBudget(GLOBAL_SCOPE)).toMatchObject({ spentMicroUsd: 3_500, reservedMicroUsd: 0 });
    expect((await ledger.getBudget({ kind: "key", id: "k1" })).spentMicroUsd).toBe(2_000);
    expect((await ledger.getBudget(batch("b9"))).spentMicroUsd).toBe(1_500);
    expect((await ledger.getBudget({ kind: "schedule", id: "sch_1" })).spentMicroUsd).toBe(1_500);
  });

  it("reports 50/80/100% once per scope and period", async () => {
    const ledger = createLedger({ redis, prefix: uniquePrefix("ledger-alerts") });
    await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 10_000, period: "none", timezone: "UTC" });
    await ledger.setBudget(batch("b1"), { limitMicroUsd: 4_000, period: "none", timezone: "UTC" });
    const run = async (id: string, cost: number) => {
      await ledger.reserve(id, cost, [GLOBAL_SCOPE, batch("b1")]);
      return (await ledger.settle(id, cost, facts({ batchId: "b1" }))).thresholdsCrossed;
    };
    expect(await run("job_1", 1_000)).toEqual([]);
    expect(await run("job_2", 1_500)).toEqual([{ scope: batch("b1"), percent: 50 }]);
    expect(await run("job_3", 1_000)).toEqual([{ scope: batch("b1"), percent: 80 }]);
    expect(await run("job_4", 500)).toEqual([{ scope: batch("b1"), percent: 100 }]);
    await ledger.setBudget(batch("b1"), { limitMicroUsd: null, period: "none", timezone: "UTC" });
    expect(await run("job_5", 3_000)).toEqual([{ scope: GLOBAL_SCOPE, percent: 50 }]);
    expect(await run("job_6", 1_000)).toEqual([{ scope: GLOBAL_SCOPE, percent: 80 }]);
    expect(await run("job_7", 2_000)).toEqual([{ scope: GLOBAL_SCOPE, percent: 100 }]);
    expect(await run("job_8", 0)).toEqual([]);
    // Raising the limit re-arms the thresholds spend is now below (10 000 of 16 000 is past 50%).
    await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 16_000, period: "none", timezone: "UTC" });
    expect(await run("job_9", 2_000)).toEqual([]);
    expect(await run("job_10", 4_000)).toEqual([{ scope: GLOBAL_SCOPE, percent: 80 }, { scope: GLOBAL_SCOPE, percent: 100 }]);
    expect(await run("job_11", 0)).toEqual([]);
  });

  it("reports spend by model, day and batch whose totals equal the settled costs", async () => {
    let clock = new Date("2026-03-01T10:00:00Z");
    const ledger = createLedger({ redis, prefix: uniquePrefix("ledger-spend"), now: () => clock });
    const jobs = [
      { id: "job_a", cost: 2_000, seconds: 10, model: MODEL, batchId: "batch_1", at: "2026-03-01T10:00:00Z" },
      { id: "job_b", cost: 3_000, seconds: 10, model: "acestep-ai/ace-step-1.5/text-to-audio", batchId: "batch_1", at: "2026-03-01T23:59:59Z" },
      { id: "job_c", cost: 2_001, seconds: 10.001, model: MODEL, batchId: null, at: "2026-03-02T00:00:00Z" },
      { id: "job_d", cost: 6_667, seconds: 33.333, model: "acestep-ai/ace-step/audio-outpaint", batchId: "batch_2", at: "2026-03-02T08:00:00Z" },
    ];
    for (const job of jobs) {
      clock = new Date(job.at);
      await ledger.reserve(job.id, job.cost + 100, [GLOBAL_SCOPE]);
      await ledger.settle(job.id, job.cost, facts({ model: job.model, seconds: job.seconds, batchId: job.batchId, finishedAt: clock }));
    }
    const sum = jobs.reduce((acc, j) => acc + j.cost, 0);
    expect(await ledger.totals()).toEqual({ jobs: 4, seconds: 63.334, costMicroUsd: sum });
    expect(await ledger.spend("day")).toEqual([
      { key: "2026-03-01", jobs: 2, seconds: 20, costMicroUsd: 5_000 },
      { key: "2026-03-02", jobs: 2, seconds: 43.334, costMicroUsd: 8_668 },
    ]);
    expect((await ledger.spend("batch")).map((r) => [r.key, r.costMicroUsd])).toEqual([
      ["batch_1", 5_000],
      ["batch_2", 6_667],
      ["none", 2_001],
    ]);
    for (const group of ["model", "day", "batch"] as const) {
      const rows = await ledger.spend(group);
      expect(rows.reduce((acc, r) => acc + r.costMicroUsd, 0)).toBe(sum);
      expect(rows.reduce((acc, r) => acc + r.jobs, 0)).toBe(4);
    }
    expect((await ledger.getBudget(GLOBAL_SCOPE)).spentMicroUsd).toBe(sum);
  });
});
