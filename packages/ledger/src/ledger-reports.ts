import type { Redis } from "ioredis";
import type { LedgerKeys } from "./keys.ts";
import { parseScopeKey } from "./scopes.ts";
import type { ReservationView, SpendGroup, SpendRow, SpendTotals } from "./types.ts";
import { int } from "./validate.ts";

const SPEND_GROUPS: readonly SpendGroup[] = ["model", "day", "batch"];

function toRow(hash: Record<string, string>): SpendTotals {
  return { jobs: int(hash.jobs), seconds: int(hash.ms) / 1000, costMicroUsd: int(hash.cost) };
}

/** Spend rows of one grouping, sorted by key. */
export async function readSpend(redis: Redis, keys: LedgerKeys, groupBy: SpendGroup): Promise<SpendRow[]> {
  if (!SPEND_GROUPS.includes(groupBy)) throw new RangeError(`group_by must be one of ${SPEND_GROUPS.join(", ")}, got ${groupBy}`);
  const rowKeys = (await redis.smembers(keys.spendIndex(groupBy))).sort();
  if (rowKeys.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const key of rowKeys) pipeline.hgetall(keys.spendRow(groupBy, key));
  const results = (await pipeline.exec()) ?? [];
  return rowKeys.map((key, i) => {
    const [err, hash] = results[i] ?? [new Error("missing pipeline reply"), null];
    if (err) throw err;
    return { key, ...toRow(hash as Record<string, string>) };
  });
}

/** All settled spend. */
export async function readTotals(redis: Redis, keys: LedgerKeys): Promise<SpendTotals> {
  return toRow(await redis.hgetall(keys.spendTotals()));
}

/** The ledger's record of a job, or null if it never reserved or settled (a settled one keeps only state and actual). */
export async function readReservation(redis: Redis, keys: LedgerKeys, jobId: string): Promise<ReservationView | null> {
  const hash = await redis.hgetall(keys.job(jobId));
  if (!hash.state) return null;
  const pairs: unknown = JSON.parse(hash.scopes || "[]");
  const scopes = Array.isArray(pairs)
    ? pairs.map(([scope, periodKey]: [string, string]) => ({ scope: parseScopeKey(scope), periodKey }))
    : [];
  return {
    jobId,
    state: hash.state as ReservationView["state"],
    amountMicroUsd: hash.amount === undefined ? null : int(hash.amount),
    actualMicroUsd: hash.actual === undefined ? null : int(hash.actual),
    attempt: hash.attempt ? int(hash.attempt) : null,
    scopes,
    reservedAt: hash.reserved_at || null,
    releasedAt: hash.released_at || null,
    settledAt: hash.settled_at || null,
  };
}
