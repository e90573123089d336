import { newId } from "@acebatch/contracts";
import type { Redis } from "ioredis";
import { webhookKeys } from "./keys.ts";

/**
 * Which finished jobs have not had their final event fanned out, from the job store's own status
 * indexes (the Lua scripts that keep them are not ours, and their PUBLISH is fire-and-forget):
 * 1. the watch set holds every job that was not final at the previous pass; those no longer in a
 *    non-final index have finished since (however long they ran);
 * 2. jobs created within the look-back window that are final: these cover jobs that were created
 *    and finished between two passes (ids are time-sortable, so the window is a lex range);
 * then every job not final now joins the watch set. Both reads skip jobs already fanned out.
 *
 * KEYS[1] watch set, KEYS[2] fanned-out marks (the job indexes share their hash-tagged prefix);
 * ARGV[1] prefix, ARGV[2] lowest job id of the window (inclusive), ARGV[3] most ids to return,
 * ARGV[4] now (ms), ARGV[5] how long fanned-out marks are kept (ms). Returns job ids.
 */
const UNFANNED_FINAL_JOBS = `
local p = ARGV[1]
local watch, fanned = KEYS[1], KEYS[2]
local q, w, ip = p .. ':jobs:status:queued', p .. ':jobs:status:waiting_budget', p .. ':jobs:status:in_progress'
local max = tonumber(ARGV[3])
local out, seen = {}, {}
for _, id in ipairs(redis.call('ZDIFF', 4, watch, q, w, ip)) do
  if redis.call('ZSCORE', fanned, id) or redis.call('EXISTS', p .. ':job:' .. id) == 0 then
    redis.call('ZREM', watch, id)
  elseif #out < max then
    out[#out + 1] = id
    seen[id] = true
  end
end
for _, s in ipairs({'completed', 'failed', 'cancelled'}) do
  if #out >= max then break end
  for _, id in ipairs(redis.call('ZRANGE', p .. ':jobs:status:' .. s, '[' .. ARGV[2], '+', 'BYLEX')) do
    if #out >= max then break end
    if not seen[id] and not redis.call('ZSCORE', fanned, id) then
      out[#out + 1] = id
      seen[id] = true
    end
  end
end
redis.call('ZUNIONSTORE', watch, 4, watch, q, w, ip)
redis.call('ZREMRANGEBYSCORE', fanned, '-inf', '(' .. (tonumber(ARGV[4]) - tonumber(ARGV[5])))
return out
`;

type ScriptRedis = Redis & { acebatchUnfannedFinalJobs(watch: string, fanned: string, ...args: string[]): Promise<string[]> };

/**
 * How far back (by creation time in the id) a pass looks for finished jobs nobody fanned out. It
 * only has to cover the gap between a job id's time and the moment the job enters the store
 * (a batch's job ids carry the batch's creation time; uploads are committed within the staging
 * hour); jobs that live longer are in the watch set.
 */
export const RECONCILE_LOOKBACK_MS = 3 * 3_600_000;

/** The ids of finished jobs whose final event no dispatcher has fanned out yet (at most `max`). */
export async function unfannedFinalJobs(redis: Redis, prefix: string, options: { nowMs: number; lookbackMs?: number; max?: number }): Promise<string[]> {
  const r = redis as ScriptRedis;
  if (typeof r.acebatchUnfannedFinalJobs !== "function") {
    redis.defineCommand("acebatchUnfannedFinalJobs", { numberOfKeys: 2, lua: UNFANNED_FINAL_JOBS });
  }
  const lookback = options.lookbackMs ?? RECONCILE_LOOKBACK_MS;
  // `job_` + the 10 time characters of an id made at the window's start: every later id sorts after it.
  const lowest = newId("job", Math.max(0, options.nowMs - lookback)).slice(0, 14);
  const keys = webhookKeys(prefix);
  return r.acebatchUnfannedFinalJobs(keys.watchJobs(), keys.fannedJobs(), prefix, lowest, String(options.max ?? 2_000), String(options.nowMs), String(lookback + 3_600_000));
}

/** Mark a job's final event as fanned out (and stop watching it). */
export async function markJobFanned(redis: Redis, prefix: string, jobId: string, nowMs: number): Promise<void> {
  const keys = webhookKeys(prefix);
  await redis.multi().zadd(keys.fannedJobs(), nowMs, jobId).zrem(keys.watchJobs(), jobId).exec();
}
