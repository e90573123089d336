import type { Redis } from "ioredis";
import type { JobStatus } from "@acebatch/contracts";
import { decodeRecord, encodeFields, encodeNonEmptyFields, RECORD_DEFAULTS, type JobRecord } from "./job-record.ts";
import { CLAIM_SUBMIT, CREATE_JOB, TRANSITION_JOB, UPDATE_SUBMIT_CLAIM } from "./job-store-scripts.ts";
import { createKeys } from "./keys.ts";
import { withLuaScripts } from "./lua-scripts.ts";

export type NewJobRecord = Pick<JobRecord, "id" | "model" | "input" | "created_at"> &
  Partial<Pick<JobRecord, "batch_id" | "schedule_id" | "metadata" | "webhook_url" | "estimated_cost_micro_usd" | "status" | "finish" | "key_id">>;

export type TransitionOutcome =
  | { ok: true; previous: JobStatus }
  | { ok: false; reason: "not_allowed"; current: JobStatus }
  | { ok: false; reason: "missing" };

export interface JobListQuery {
  status?: JobStatus;
  batch_id?: string;
  schedule_id?: string;
  limit: number;
  /** The last id of the previous page. */
  cursor?: string;
}

type ScriptRedis = Redis & {
  acebatchCreateJob(key: string, ...args: string[]): Promise<number>;
  acebatchTransitionJob(key: string, ...args: string[]): Promise<[number, string]>;
  acebatchClaimSubmit(key: string, leaseMs: string, token: string): Promise<SubmitClaim>;
  acebatchUpdateSubmitClaim(key: string, ...args: string[]): Promise<number>;
};

/** See CLAIM_SUBMIT. */
export type SubmitClaim = "ok" | "busy" | "stale" | "missing" | "submitted";

function withScripts(redis: Redis): ScriptRedis {
  return withLuaScripts<ScriptRedis>(redis, {
    acebatchCreateJob: { numberOfKeys: 1, lua: CREATE_JOB },
    acebatchTransitionJob: { numberOfKeys: 1, lua: TRANSITION_JOB },
    acebatchClaimSubmit: { numberOfKeys: 1, lua: CLAIM_SUBMIT },
    acebatchUpdateSubmitClaim: { numberOfKeys: 1, lua: UPDATE_SUBMIT_CLAIM },
  });
}

/** How many ids a filtered listing may inspect for one page before it stops and hands back a cursor. */
const MAX_SCAN_PER_PAGE = 5_000;

/** Durable job records with status/batch/schedule indexes; every change is one atomic script. */
export function createJobStore({ redis, prefix }: { redis: Redis; prefix: string }) {
  const keys = createKeys(prefix);
  const r = withScripts(redis);

  async function get(id: string): Promise<JobRecord | null> {
    return decodeRecord(await redis.hgetall(keys.job(id)));
  }

  async function getMany(ids: readonly string[]): Promise<(JobRecord | null)[]> {
    if (ids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.job(id));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, hash]) => {
      if (err) throw err;
      return decodeRecord(hash as Record<string, string>);
    });
  }

  /** Create the record (and index it) unless a record with this id already exists. */
  async function create(job: NewJobRecord): Promise<{ created: boolean; record: JobRecord }> {
    const record: JobRecord = {
      status: "queued",
      ...RECORD_DEFAULTS,
      metadata: {},
      ...job,
    };
    const created = await r.acebatchCreateJob(
      keys.job(job.id),
      prefix,
      job.id,
      record.status,
      record.batch_id ?? "",
      record.schedule_id ?? "",
      ...encodeNonEmptyFields(record),
    );
    if (created === 1) return { created: true, record };
    const existing = await get(job.id);
    if (!existing) throw new Error(`job ${job.id} exists but could not be read back`);
    return { created: false, record: existing };
  }

  /**
   * Atomically move a job to `to` (or keep its status) and set `set`, but only if its current
   * status is one of `from`. Status indexes and batch counters follow in the same step.
   */
  async function transition(
    id: string,
    change: { from: readonly JobStatus[] | "*"; to?: JobStatus; set?: Partial<JobRecord> },
  ): Promise<TransitionOutcome> {
    const allowed = change.from === "*" ? "*" : change.from.join(",");
    const [code, status] = await r.acebatchTransitionJob(
      keys.job(id),
      prefix,
      id,
      allowed,
      change.to ?? "",
      ...encodeFields(change.set ?? {}),
    );
    if (code === -1) return { ok: false, reason: "missing" };
    if (code === 0) return { ok: false, reason: "not_allowed", current: status as JobStatus };
    return { ok: true, previous: status as JobStatus };
  }

  /**
   * Claim the right to submit this job for `leaseMs` under `token` (unique per claim). Renew the
   * lease, and write the claim's fields, with `updateSubmitClaim` and the same token.
   */
  async function claimSubmit(id: string, leaseMs: number, token: string): Promise<SubmitClaim> {
    return r.acebatchClaimSubmit(keys.job(id), String(Math.round(leaseMs)), token);
  }

  /**
   * Set fields (no status change) only while `token` still holds the job's submit claim; false
   * when another worker has claimed it since (or the claim was ended). `renewLeaseMs` extends the
   * lease from now; `end` removes the token, so nothing more is written under it.
   */
  async function updateSubmitClaim(
    id: string,
    token: string,
    set: Partial<JobRecord>,
    options: { renewLeaseMs?: number; end?: boolean } = {},
  ): Promise<boolean> {
    const renew = String(Math.max(0, Math.round(options.renewLeaseMs ?? 0)));
    return (await r.acebatchUpdateSubmitClaim(keys.job(id), token, renew, options.end ? "1" : "0", ...encodeFields(set))) === 1;
  }

  /** Set fields without changing status (fails only when the record is missing). */
  async function update(id: string, set: Partial<JobRecord>): Promise<boolean> {
    const outcome = await transition(id, { from: "*", set });
    return outcome.ok;
  }

  /** Newest first, from the most selective index; other filters are applied to the fetched records. */
  async function list(query: JobListQuery): Promise<{ records: JobRecord[]; nextCursor: string | null }> {
    const index = query.batch_id
      ? keys.jobsByBatch(query.batch_id)
      : query.schedule_id
        ? keys.jobsBySchedule(query.schedule_id)
        : query.status
          ? keys.jobsByStatus(query.status)
          : keys.jobsAll();
    const matches = (rec: JobRecord) =>
      (!query.status || rec.status === query.status) &&
      (!query.batch_id || rec.batch_id === query.batch_id) &&
      (!query.schedule_id || rec.schedule_id === query.schedule_id);

    const records: JobRecord[] = [];
    let max = query.cursor ? `(${query.cursor}` : "+";
    let scanned = 0;
    while (records.length < query.limit && scanned < MAX_SCAN_PER_PAGE) {
      const want = query.limit - records.length + 1;
      const ids = await redis.zrange(index, max, "-", "BYLEX", "REV", "LIMIT", 0, want);
      if (ids.length === 0) return { records, nextCursor: null };
      scanned += ids.length;
      const fetched = await getMany(ids);
      for (let i = 0; i < ids.length; i++) {
        const rec = fetched[i];
        if (rec && matches(rec)) {
          if (records.length === query.limit) return { records, nextCursor: records.at(-1)!.id };
          records.push(rec);
        }
      }
      max = `(${ids.at(-1)}`;
      if (ids.length < want) return { records, nextCursor: null };
    }
    return { records, nextCursor: records.at(-1)?.id ?? null };
  }

  /** Per-status job counts of a batch, kept by the scripts (O(1) whatever the batch size). */
  async function batchCounts(batchId: string): Promise<Partial<Record<JobStatus, number>>> {
    const raw = await redis.hgetall(keys.batchCounts(batchId));
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  return { get, getMany, create, transition, update, claimSubmit, updateSubmitClaim, list, batchCounts, keys };
}

export type JobStore = ReturnType<typeof createJobStore>;
