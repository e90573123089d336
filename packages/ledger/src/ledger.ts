import type { Redis } from "ioredis";
import { PEEK, SET_BUDGET } from "./budget-scripts.ts";
import { RELEASE, RESERVE, SETTLE } from "./ledger-scripts.ts";
import { readReservation, readSpend, readTotals } from "./ledger-reports.ts";
import { createLedgerKeys } from "./keys.ts";
import { BUDGET_PERIODS, canonicalTimezone, periodWindow, slotOf, slotRanges, type PeriodWindow } from "./periods.ts";
import { GLOBAL_SCOPE, parseScopeKey, scopeKey, uniqueScopes, type BudgetScope } from "./scopes.ts";
import {
  LedgerConflictError,
  NO_BATCH_KEY,
  type BudgetSettings,
  type BudgetStatus,
  type ReserveResult,
  type SettleFacts,
  type SettleResult,
  type ThresholdCrossing,
} from "./types.ts";
import { assertJobId, assertMicroUsd, int, secondsToMs } from "./validate.ts";
import { withLuaScripts } from "@acebatch/queue";

type Reply = (string | number | Reply)[];
type ScriptRedis = Redis & {
  acebatchLedgerReserve(key: string, ...args: string[]): Promise<Reply>;
  acebatchLedgerRelease(key: string, ...args: string[]): Promise<number>;
  acebatchLedgerSettle(key: string, ...args: string[]): Promise<Reply>;
  acebatchLedgerSetBudget(key: string, ...args: string[]): Promise<number>;
  acebatchLedgerPeek(...args: string[]): Promise<string[]>;
};

function withScripts(redis: Redis): ScriptRedis {
  return withLuaScripts<ScriptRedis>(redis, {
    acebatchLedgerReserve: { numberOfKeys: 1, lua: RESERVE },
    acebatchLedgerRelease: { numberOfKeys: 1, lua: RELEASE },
    acebatchLedgerSettle: { numberOfKeys: 1, lua: SETTLE },
    acebatchLedgerSetBudget: { numberOfKeys: 1, lua: SET_BUDGET },
    acebatchLedgerPeek: { numberOfKeys: 0, lua: PEEK },
  });
}

const DEFAULT_SETTINGS: BudgetSettings = { limitMicroUsd: null, period: "none", timezone: "UTC" };
/** How long reserve/settle reuse a scope's settings, ms (see `settingsForMoney`). */
const SETTINGS_REUSE_MS = 200;
/** Slots outlive the longest period (a month) with margin. */
const SLOT_TTL_SECONDS = 40 * 24 * 60 * 60;

function decodeSettings(hash: Record<string, string>): BudgetSettings {
  if (!hash.period) return DEFAULT_SETTINGS;
  return {
    limitMicroUsd: hash.limit ? int(hash.limit) : null,
    period: hash.period as BudgetSettings["period"],
    timezone: hash.timezone || "UTC",
  };
}

export interface LedgerOptions {
  redis: Redis;
  /** Hash-tagged key prefix, e.g. `{acebatch}`; keys live under `<prefix>:ledger:`. */
  prefix: string;
  /** The clock that decides which period money falls in (tests move it). */
  now?: () => Date;
}

/**
 * Money in Redis that can never be overspent: reserve before a paid call, settle with the real
 * cost after, release what was not used. Every change is one atomic Lua script keyed by job id.
 */
export function createLedger({ redis, prefix, now = () => new Date() }: LedgerOptions) {
  const keys = createLedgerKeys(prefix);
  const r = withScripts(redis);

  async function readSettings(scopeKeys: readonly string[]): Promise<BudgetSettings[]> {
    const pipeline = redis.pipeline();
    for (const key of scopeKeys) pipeline.hgetall(keys.budget(key));
    const results = (await pipeline.exec()) ?? [];
    return scopeKeys.map((_, i) => {
      const [err, hash] = results[i] ?? [new Error("missing pipeline reply"), null];
      if (err) throw err;
      return decodeSettings(hash as Record<string, string>);
    });
  }

  // Settings read for reserve/settle, reused for SETTINGS_REUSE_MS: a busy worker would otherwise
  // read every scope's settings twice per job. A change made in the meantime is caught like one
  // made between a read and the script: the old counter forwards to the new one.
  const recentSettings = new Map<string, { settings: BudgetSettings; readAt: number }>();

  async function settingsForMoney(scopeKeys: readonly string[]): Promise<BudgetSettings[]> {
    const nowMs = Date.now();
    const fresh = scopeKeys.map((key) => {
      const hit = recentSettings.get(key);
      return hit && nowMs - hit.readAt < SETTINGS_REUSE_MS ? hit.settings : null;
    });
    const missing = scopeKeys.filter((_, i) => fresh[i] === null);
    if (missing.length === 0) return fresh as BudgetSettings[];
    const read = await readSettings(missing);
    if (recentSettings.size > 10_000) recentSettings.clear();
    missing.forEach((key, i) => recentSettings.set(key, { settings: read[i]!, readAt: nowMs }));
    let next = 0;
    return fresh.map((s) => s ?? read[next++]!);
  }

  /** The current period of each scope. A setting changed after this read is caught in Lua by the forward pointers. */
  async function currentWindows(scopeKeys: readonly string[], at: Date): Promise<PeriodWindow[]> {
    const settings = await settingsForMoney(scopeKeys);
    return settings.map((s) => periodWindow(s.period, s.timezone, at));
  }

  /** Set (or replace) a scope's budget; limits in micro-dollars. Returns the budget as it now stands. */
  async function setBudget(scope: BudgetScope, settings: BudgetSettings): Promise<BudgetStatus> {
    const key = scopeKey(scope);
    if (settings.limitMicroUsd !== null) assertMicroUsd("limitMicroUsd", settings.limitMicroUsd);
    if (!BUDGET_PERIODS.includes(settings.period)) {
      throw new RangeError(`period must be one of ${BUDGET_PERIODS.join(", ")}, got ${JSON.stringify(settings.period)}`);
    }
    const timezone = canonicalTimezone(settings.timezone);
    recentSettings.delete(key);
    const at = now();
    const [previous] = await readSettings([key]);
    const oldWindow = periodWindow(previous!.period, previous!.timezone, at);
    const newWindow = periodWindow(settings.period, timezone, at);
    const ranges = newWindow.startsAt ? slotRanges(newWindow.startsAt, at) : [];
    await r.acebatchLedgerSetBudget(
      keys.budget(key),
      keys.root,
      key,
      settings.limitMicroUsd === null ? "" : String(settings.limitMicroUsd),
      settings.period,
      timezone,
      at.toISOString(),
      oldWindow.key,
      newWindow.key,
      newWindow.startsAt ? "slots" : "life",
      String(ranges.length),
      ...ranges.flatMap(([day, first, last]) => [day, String(first), String(last)]),
    );
    recentSettings.delete(key);
    return getBudget(scope);
  }

  /** A scope's budget with its current period's spent, reserved and remaining micro-dollars. */
  async function getBudget(scope: BudgetScope): Promise<BudgetStatus> {
    const key = scopeKey(scope);
    const [settings] = await readSettings([key]);
    const window = periodWindow(settings!.period, settings!.timezone, now());
    const [limit, spent, reserved, periodKey] = await r.acebatchLedgerPeek(keys.root, key, window.key);
    const limitMicroUsd = limit ? int(limit) : null;
    const spentMicroUsd = int(spent);
    const reservedMicroUsd = int(reserved);
    return {
      ...settings!,
      limitMicroUsd,
      spentMicroUsd,
      reservedMicroUsd,
      remainingMicroUsd: limitMicroUsd === null ? null : Math.max(0, limitMicroUsd - spentMicroUsd - reservedMicroUsd),
      periodKey: periodKey ?? window.key,
      periodStartsAt: window.startsAt?.toISOString() ?? null,
      resetsAt: window.resetsAt?.toISOString() ?? null,
    };
  }

  /**
   * Reserve `amountMicroUsd` for a job on every scope at once, or on none: each limited scope must
   * keep spent + reserved + amount ≤ limit in its current period. Repeating it is harmless.
   */
  async function reserve(
    jobId: string,
    amountMicroUsd: number,
    scopes: readonly BudgetScope[],
    meta: { attempt?: number } = {},
  ): Promise<ReserveResult> {
    assertJobId(jobId);
    assertMicroUsd("amountMicroUsd", amountMicroUsd);
    const list = uniqueScopes(scopes);
    if (list.length === 0) throw new TypeError("reserve needs at least one budget scope (usually the global one)");
    if (meta.attempt !== undefined && (!Number.isSafeInteger(meta.attempt) || meta.attempt < 0)) {
      throw new RangeError(`attempt must be a whole number ≥ 0, got ${meta.attempt}`);
    }
    const at = now();
    const windows = await currentWindows(list.map((s) => s.key), at);
    const reply = await r.acebatchLedgerReserve(
      keys.job(jobId),
      keys.root,
      jobId,
      String(amountMicroUsd),
      meta.attempt === undefined ? "" : String(meta.attempt),
      at.toISOString(),
      String(list.length),
      ...list.flatMap((s, i) => [s.key, windows[i]!.key]),
    );
    const [outcome, ...rest] = reply as string[];
    if (outcome === "ok") return { ok: true, alreadyReserved: false, alreadySettled: false };
    if (outcome === "reserved") return { ok: true, alreadyReserved: true, alreadySettled: false };
    if (outcome === "settled") return { ok: true, alreadyReserved: false, alreadySettled: true };
    if (outcome === "stale") {
      throw new LedgerConflictError(`job ${jobId}: attempt ${meta.attempt} is older than its last reservation (attempt ${rest[0]})`);
    }
    const index = Number(rest[0]) - 1;
    return {
      ok: false,
      blockedBy: list[index]!.scope,
      limitMicroUsd: int(rest[1]),
      spentMicroUsd: int(rest[2]),
      reservedMicroUsd: int(rest[3]),
      resetsAt: windows[index]!.resetsAt?.toISOString() ?? null,
    };
  }

  /** Give back a job's unsettled reservation. True if something was released. */
  async function release(jobId: string): Promise<boolean> {
    assertJobId(jobId);
    return (await r.acebatchLedgerRelease(keys.job(jobId), keys.root, now().toISOString())) === 1;
  }

  /**
   * Record a job's real cost (micro-dollars) once: its reservation becomes spent in the
   * reservation's periods; without one the spend is still counted. Reports threshold crossings.
   */
  async function settle(jobId: string, actualMicroUsd: number, facts: SettleFacts): Promise<SettleResult> {
    assertJobId(jobId);
    assertMicroUsd("actualMicroUsd", actualMicroUsd);
    if (typeof facts.model !== "string" || facts.model === "" || facts.model.length > 200) {
      throw new TypeError(`model must be a non-empty string, got ${JSON.stringify(facts.model)}`);
    }
    const secondsMs = secondsToMs(facts.seconds);
    const batchRow = facts.batchId ? scopeKey({ kind: "batch", id: facts.batchId }).slice("batch:".length) : NO_BATCH_KEY;
    const fallback = uniqueScopes(
      facts.scopes ?? [
        GLOBAL_SCOPE,
        ...(facts.batchId ? [{ kind: "batch", id: facts.batchId } as const] : []),
        ...(facts.scheduleId ? [{ kind: "schedule", id: facts.scheduleId } as const] : []),
      ],
    );
    const at = now();
    const finishedAt = facts.finishedAt ?? at;
    const windows = await currentWindows(fallback.map((s) => s.key), at);
    const slot = slotOf(at);
    const reply = await r.acebatchLedgerSettle(
      keys.job(jobId),
      keys.root,
      String(actualMicroUsd),
      at.toISOString(),
      facts.model,
      String(secondsMs),
      finishedAt.toISOString().slice(0, 10),
      batchRow,
      slot.day,
      String(slot.slot),
      String(SLOT_TTL_SECONDS),
      String(fallback.length),
      ...fallback.flatMap((s, i) => [s.key, windows[i]!.key]),
    );
    if (reply[0] === 0) return { settled: false, thresholdsCrossed: [] };
    const flat = (reply[1] ?? []) as string[];
    const thresholdsCrossed: ThresholdCrossing[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      thresholdsCrossed.push({ scope: parseScopeKey(flat[i]!), percent: Number(flat[i + 1]) as ThresholdCrossing["percent"] });
    }
    return { settled: true, thresholdsCrossed };
  }

  return {
    setBudget,
    getBudget,
    reserve,
    release,
    settle,
    /** Spend rows grouped by model, UTC day of finish, or batch (`none` for jobs without one), sorted by key. */
    spend: (groupBy: "model" | "day" | "batch") => readSpend(redis, keys, groupBy),
    /** All settled spend: jobs, seconds of audio, micro-dollars. */
    totals: () => readTotals(redis, keys),
    /** The ledger's record of one job, or null; a settled one keeps only its state and actual cost. */
    reservation: (jobId: string) => readReservation(redis, keys, jobId),
  };
}

export type Ledger = ReturnType<typeof createLedger>;
