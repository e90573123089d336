import { createKeys, withLuaScripts } from "@acebatch/queue";
import type { Redis } from "ioredis";
import { webhookKeys } from "./keys.ts";

/**
 * The dispatcher's marks live as short fields on the job's own record (`<prefix>:job:<id>`, a
 * compact listpack hash) rather than in keys of their own: a finished job then leaves no webhook
 * key behind (a claim key and a sorted-set member took ~230 bytes a job; the two fields add ~40 to
 * the listpack). The job store's decodeRecord ignores them. Both scripts write only to a record
 * that exists: records are deleted elsewhere, and a stray HSET would bring back a record holding
 * nothing but a mark.
 */
export const JOB_MARK_FIELDS = {
  /** The final status whose channel message one dispatcher has taken on. */
  claim: "wh_claim",
  /** When (ms) the job's final event was fanned out. */
  fanned: "wh_fanned",
} as const;

/**
 * Take on a job status message. KEYS[1] the job record; ARGV[1] the status. Returns 1 for the one
 * caller that claimed it, 0 when it was claimed already or the record is gone. A job reaches one
 * final status; were it ever to reach another, that one would be claimed anew.
 */
const CLAIM_JOB_STATUS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], '${JOB_MARK_FIELDS.claim}') == ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], '${JOB_MARK_FIELDS.claim}', ARGV[1])
return 1
`;

/**
 * Mark a job's final event fanned out and stop watching it. KEYS[1] the job record, KEYS[2] the
 * watch set; ARGV[1] job id, ARGV[2] now (ms).
 */
const MARK_JOB_FANNED = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], '${JOB_MARK_FIELDS.fanned}', ARGV[2]) end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

type ScriptRedis = Redis & {
  acebatchClaimJobStatus(record: string, status: string): Promise<number>;
  acebatchMarkJobFanned(record: string, watch: string, jobId: string, nowMs: string): Promise<number>;
};

function withScripts(redis: Redis): ScriptRedis {
  return withLuaScripts<ScriptRedis>(redis, {
    acebatchClaimJobStatus: { numberOfKeys: 1, lua: CLAIM_JOB_STATUS },
    acebatchMarkJobFanned: { numberOfKeys: 2, lua: MARK_JOB_FANNED },
  });
}

/** True for the one dispatcher that gets to handle this job's `status` message. */
export async function claimJobStatus(redis: Redis, prefix: string, jobId: string, status: string): Promise<boolean> {
  return (await withScripts(redis).acebatchClaimJobStatus(createKeys(prefix).job(jobId), status)) === 1;
}

/** Mark a job's final event as fanned out (and stop watching it). */
export async function markJobFanned(redis: Redis, prefix: string, jobId: string, nowMs: number): Promise<void> {
  await withScripts(redis).acebatchMarkJobFanned(createKeys(prefix).job(jobId), webhookKeys(prefix).watchJobs(), jobId, String(nowMs));
}
