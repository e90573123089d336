import { uniquePrefix } from "@acebatch/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createLedger } from "./ledger.ts";
import { GLOBAL_SCOPE } from "./scopes.ts";

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await redis.quit();
});

const NY = "America/New_York";
const facts = { model: "acestep-ai/ace-step/text-to-audio", seconds: 10 };

/** A ledger whose clock the test sets. */
function makeLedger(label: string, start: string) {
  const clock = { now: new Date(start) };
  const ledger = createLedger({ redis, prefix: uniquePrefix(label), now: () => clock.now });
  const at = (iso: string) => {
    clock.now = new Date(iso);
  };
  let n = 0;
  /** Reserve and settle one job of `cost`; false if the budget refused it. */
  const spend = async (cost: number): Promise<boolean> => {
    const id = `job_${++n}`;
    const result = await ledger.reserve(id, cost, [GLOBAL_SCOPE]);
    if (!result.ok) return false;
    await ledger.settle(id, cost, facts);
    return true;
  };
  return { ledger, at, spend };
}

describe("period resets", () => {
  it("starts a daily budget over at midnight in its timezone", async () => {
    const { ledger, at, spend } = makeLedger("daily-ny", "2026-11-24T04:59:00Z"); // 23:59 on Nov 23 in New York
    await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 6_000, period: "day", timezone: NY });
    expect([await spend(2_000), await spend(2_000), await spend(2_000)]).toEqual([true, true, true]);
    expect(await ledger.reserve("job_waiting", 2_000, [GLOBAL_SCOPE])).toMatchObject({
      ok: false,
      spentMicroUsd: 6_000,
      resetsAt: "2026-11-24T05:00:00.000Z",
    });
    at("2026-11-24T04:59:59.999Z");
    expect((await ledger.reserve("job_waiting", 2_000, [GLOBAL_SCOPE])).ok).toBe(false);
    at("2026-11-24T05:00:00Z"); // midnight in New York (still 2026-11-24 in UTC all along)
    expect(await ledger.reserve("job_waiting", 2_000, [GLOBAL_SCOPE])).toMatchObject({ ok: true });
    expect(await ledger.getBudget(GLOBAL_SCOPE)).toMatchObject({
      periodKey: "d:2026-11-24@America/New_York",
      spentMicroUsd: 0,
      reservedMicroUsd: 2_000,
      remainingMicroUsd: 4_000,
      periodStartsAt: "2026-11-24T05:00:00.000Z",
      resetsAt: "2026-11-25T05:00:00.000Z",
    });
  });

  it("keeps a 23-hour DST day as one period and resets at its local midnight", async () => {
    // 2026-03-08 in New York starts at 05:00Z (EST) and ends at 04:00Z on the 9th (EDT).
    const { ledger, at, spend } = makeLedger("daily-dst", "2026-03-08T05:00:00Z");
    await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 4_000, period: "day", timezone: NY });
    expect(await spend(2_000)).toBe(true);
    at("2026-03-09T03:59:00Z"); // 23:59 EDT, same local day
    expect(await spend(2_000)).toBe(true);
    expect(await ledger.reserve("job_late", 2_000, [GLOBAL_SCOPE])).toMatchObject({ ok: false, resetsAt: "2026-03-09T04:00:00.000Z" });
    at("2026-03-09T04:00:00Z"); // midnight after 23 hours
    expect((await ledger.reserve("job_late", 2_000, [GLOBAL_SCOPE])).ok).toBe(true);
  });

  it("starts a monthly budget over on the 1st", async () => {
    const { ledger, at, spend } = makeLedger("monthly", "2026-01-01T00:00:00Z");
    await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 5_000, period: "month", timezone: "UTC" });
    expect(await spend(3_000)).toBe(true);
    at("2026-01-31T23:59:59Z");
    expect(await spend(2_000)).toBe(true);
    expect(await ledger.reserve("job_feb", 1, [GLOBAL_SCOPE])).toMatchObject({ ok: false, resetsAt: "2026-02-01T00:00:00.000Z" });
    at("2026-02-01T00:00:00Z");
    expect(await spend(5_000)).toBe(true);
    expect(await ledger.getBudget(GLOBAL_SCOPE)).toMatchObject({ periodKey: "m:2026-02@UTC", spentMicroUsd: 5_000 });
  });

  it("settles a reservation into the period it was made in", async () => {
    const { ledger, at } = makeLedger("settle-period", "2026-05-10T23:59:00Z");
    await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 10_000, period: "day", timezone: "UTC" });
    await ledger.reserve("job_1", 3_000, [GLOBAL_SCOPE]);
    expect(await ledger.reservation("job_1")).toMatchObject({ scopes: [{ scope: GLOBAL_SCOPE, periodKey: "d:2026-05-10@UTC" }] });
    at("2026-05-11T00:01:00Z");
    const crossed = await ledger.settle("job_1", 6_000, facts);
    expect(crossed.thresholdsCrossed).toEqual([{ scope: GLOBAL_SCOPE, percent: 50 }]);
    expect(await ledger.getBudget(GLOBAL_SCOPE)).toMatchObject({ spentMicroUsd: 0, reservedMicroUsd: 0 });
    at("2026-05-10T23:59:30Z");
    expect(await ledger.getBudget(GLOBAL_SCOPE)).toMatchObject({ spentMicroUsd: 6_000, reservedMicroUsd: 0 });
  });
});

describe("changing period or timezone", () => {
  it("recomputes the new period's spend from what was spent inside it and carries live reservations", async () => {
    const { ledger, at, spend } = makeLedger("change", "2026-06-01T10:00:00Z");
    await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 100_000, period: "day", timezone: "UTC" });
    expect(await spend(7_000)).toBe(true); // June 1
    at("2026-06-02T10:00:00Z");
    expect(await spend(5_000)).toBe(true); // June 2
    await ledger.reserve("job_live", 4_000, [GLOBAL_SCOPE]);

    // Day → month: June 1 and June 2 both fall inside June.
    let budget = await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 100_000, period: "month", timezone: "UTC" });
    expect(budget).toMatchObject({ periodKey: "m:2026-06@UTC", spentMicroUsd: 12_000, reservedMicroUsd: 4_000 });

    // Month → day in New York: June 2 there began at 04:00Z, so only the 10:00Z spend is inside it.
    budget = await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 100_000, period: "day", timezone: NY });
    expect(budget).toMatchObject({ periodKey: "d:2026-06-02@America/New_York", spentMicroUsd: 5_000, reservedMicroUsd: 4_000 });

    // The reservation made under the first settings still settles into the current period.
    await ledger.settle("job_live", 4_500, facts);
    expect(await ledger.getBudget(GLOBAL_SCOPE)).toMatchObject({ spentMicroUsd: 9_500, reservedMicroUsd: 0 });

    // Back to UTC days on the same day: nothing counted twice, nothing lost.
    budget = await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 100_000, period: "day", timezone: "UTC" });
    expect(budget).toMatchObject({ periodKey: "d:2026-06-02@UTC", spentMicroUsd: 9_500, reservedMicroUsd: 0 });
  });

  it("does not put all-time spend into today when a daily budget is first set", async () => {
    const { ledger, at, spend } = makeLedger("first-budget", "2026-06-01T10:00:00Z");
    expect(await spend(50_000)).toBe(true); // unlimited, counted
    at("2026-06-03T09:00:00Z");
    expect(await spend(1_000)).toBe(true);
    const budget = await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 10_000, period: "day", timezone: "UTC" });
    expect(budget).toMatchObject({ spentMicroUsd: 1_000, remainingMicroUsd: 9_000 });
    // And back to an all-time budget: the whole history counts again.
    expect(await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 100_000, period: "none", timezone: "UTC" })).toMatchObject({
      spentMicroUsd: 51_000,
      periodKey: "all",
    });
  });

  it("keeps the period when only the limit changes", async () => {
    const { ledger, spend } = makeLedger("limit-only", "2026-06-01T10:00:00Z");
    await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 4_000, period: "day", timezone: "UTC" });
    expect(await spend(4_000)).toBe(true);
    expect(await spend(1_000)).toBe(false);
    expect(await ledger.setBudget(GLOBAL_SCOPE, { limitMicroUsd: 5_000, period: "day", timezone: "UTC" })).toMatchObject({ spentMicroUsd: 4_000, remainingMicroUsd: 1_000 });
    expect(await spend(1_000)).toBe(true);
  });
});
