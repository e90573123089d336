import { newId } from "@acebatch/contracts";
import type { Redis } from "ioredis";
import { JOB_MARK_FIELDS } from "./job-marks.ts";
import { webhookKeys } from "./keys.ts";

/**
 * Which finished jobs have not had their final event fanned out, from the job store's own status
 * indexes (the Lua scripts that keep them are not ours, and their PUBLISH is fire-and-forget):
 * 1. the watch set holds every job that was not final at the previous pass; those no longer in a
 *    non-final index have finished since (however long they ran);
 * 2. jobs created within the look-back window that are final: these cover jobs that were created
 *    and finished between two passes (ids are time-sortable, so the window is a lex range);
 * then every job not final now joins the watch set. Both reads skip jobs already fanned out (the
 * mark is a field of the job's record, so it lasts as long as the record does).
 *
 * KEYS[1] watch set (the job indexes and records share its hash-tagged prefix);
 * ARGV[1] prefix, ARGV[2] lowest job id of the window (inclusive), ARGV[3] most ids to return.
 * Returns job ids.
 */
const UNFANNED_FINAL_JOBS = `
local p = ARGV[1]
local watch = KEYS[1]
local q, w, ip = p .. ':jobs:status:queued', p .. ':jobs:status:waiting_budget', p .. ':jobs:status:in_progress'
local max = tonumber(ARGV[3])
local out, seen = {}, {}
local function fanned(id) return redis.call('HEXISTS', p .. ':job:' .. id, '${JOB_MARK_FIELDS.fanned}') == 1 end
for _, id in ipairs(redis.call('ZDIFF', 4, watch, q, w, ip)) do
  if fanned(id) or redis.call('EXISTS', p .. ':job:' .. id) == 0 then
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
    if not seen[id] and not fanned(id) then
      out[#out + 1] = id
      seen[id] = true
    end
  end
end
redis.call('ZUNIONSTORE', watch, 4, watch, q, w, ip)
-- Versions before the marks moved onto the records kept them in this sorted set (up to 4 h of ids).
redis.call('UNLINK', p .. ':webhooks:fanned-jobs')
return out
`;

type ScriptRedis = Redis & { acebatchUnfannedFinalJobs(watch: string, ...args: string[]): Promise<string[]> };

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
    redis.defineCommand("acebatchUnfannedFinalJobs", { numberOfKeys: 1, lua: UNFANNED_FINAL_JOBS });
  }
  const lookback = options.lookbackMs ?? RECONCILE_LOOKBACK_MS;
  // `job_` + the 10 time characters of an id made at the window's start: every later id sorts after it.
  const lowest = newId("job", Math.max(0, options.nowMs - lookback)).slice(0, 14);
  return r.acebatchUnfannedFinalJobs(webhookKeys(prefix).watchJobs(), prefix, lowest, String(options.max ?? 2_000));
}
