import type { JobStatus, ModelId } from "@acebatch/contracts";
import { derivedId } from "@acebatch/contracts";
import type { Redis } from "ioredis";
import type { JobRecord } from "./job-record.ts";
import { createKeys } from "./keys.ts";
import { withLuaScripts } from "./lua-scripts.ts";

/**
 * Statuses a batch record stores. `completed` and `cancelled` are also derived on read from the
 * per-batch job counters (when every job has finished), so no worker hook is needed.
 */
export const BATCH_STATUSES = ["enqueueing", "in_progress", "cancelling", "completed", "cancelled"] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export type BatchSource = "csv" | "ndjson" | "combos" | "retry";

/** The durable record of one batch (a Redis hash; JSON for lists, integers for money and counts). */
export interface BatchRecord {
  id: string;
  name: string | null;
  status: BatchStatus;
  source: BatchSource;
  default_model: ModelId | null;
  on_invalid: "reject" | "skip";
  /** Rows after expanding variations: accepted + rejected + duplicates. */
  total: number;
  /** Jobs created for this batch. */
  accepted: number;
  rejected: number;
  duplicates: number;
  estimated_cost_micro_usd: number;
  /** Seconds of audio the accepted jobs are expected to bill. */
  estimated_seconds: number;
  /** The batch's spend cap, enforced by the worker through the ledger's batch budget. */
  max_cost_micro_usd: number | null;
  /** The stored API key (`key_...`) that uploaded it; its jobs carry it so that key's budget applies. Null for the admin key. */
  key_id: string | null;
  /** Where `batch.completed` is delivered besides the subscribed endpoints (signed with WEBHOOK_SECRET); a retry batch keeps it. */
  webhook_url: string | null;
  retry_of: string | null;
  retried_by: string | null;
  input_columns: string[];
  metadata_columns: string[];
  has_variations: boolean;
  created_at: string;
  enqueued_at: string | null;
  /** When the batch's first job started (read once from that job's record, then kept). */
  processing_started_at: string | null;
  cancel_requested_at: string | null;
  finished_at: string | null;
}

const JSON_FIELDS = new Set(["input_columns", "metadata_columns"]);
const INT_FIELDS = new Set(["total", "accepted", "rejected", "duplicates", "estimated_cost_micro_usd", "estimated_seconds", "max_cost_micro_usd"]);
const BOOL_FIELDS = new Set(["has_variations"]);

function encode(fields: Partial<BatchRecord>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out.push(key, value === null ? "" : JSON_FIELDS.has(key) ? JSON.stringify(value) : BOOL_FIELDS.has(key) ? (value ? "1" : "0") : String(value));
  }
  return out;
}

function decode(hash: Record<string, string>): BatchRecord | null {
  if (!hash.id) return null;
  // Fields added after the first release default to null for records written before them.
  const rec: Record<string, unknown> = { key_id: null, webhook_url: null };
  for (const [key, raw] of Object.entries(hash)) {
    if (JSON_FIELDS.has(key)) rec[key] = raw === "" ? [] : JSON.parse(raw);
    else if (raw === "") rec[key] = null;
    else if (INT_FIELDS.has(key)) rec[key] = Number(raw);
    else if (BOOL_FIELDS.has(key)) rec[key] = raw === "1";
    else rec[key] = raw;
  }
  return rec as unknown as BatchRecord;
}

/** Create a record unless it exists. KEYS[1] record, KEYS[2] index; ARGV[1] id, ARGV[2..] pairs. */
const CREATE_BATCH = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1
`;

/**
 * Set fields (and optionally the status) if the record's status is one of ARGV[1] ('a,b' or '*').
 * KEYS[1] record; ARGV[1] allowed, ARGV[2] new status or '', ARGV[3..] pairs. Returns {1|0|-1, status}.
 */
const TRANSITION_BATCH = `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {-1, ''} end
if ARGV[1] ~= '*' then
  local ok = false
  for s in string.gmatch(ARGV[1], '[^,]+') do if s == cur then ok = true end end
  if not ok then return {0, cur} end
end
if #ARGV >= 4 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 3))
end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'status', ARGV[2]) end
return {1, cur}
`;

/** Set field ARGV[1] to ARGV[2] unless it holds a non-empty value; return what it holds. KEYS[1] record. */
const CLAIM_FIELD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and cur ~= '' then return cur end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ARGV[2]
`;

/**
 * Create a chunk of one batch's queued job records, each only if absent: the same record, indexes
 * and batch counters `JobStore.create` writes (CREATE_JOB), with the index entries and the counter
 * written once per chunk (one multi-member ZADD per index, one HINCRBY) instead of once per job.
 * KEYS[i] is record i; ARGV[1] prefix, ARGV[2] batch id, then per record: its id, the number of
 * field/value strings, and those strings. Returns per record 1 (created) or the existing status.
 */
const CREATE_JOBS = `
local p, batch = ARGV[1], ARGV[2]
local out, members, created = {}, {}, 0
local pos = 3
for i = 1, #KEYS do
  local id, argc = ARGV[pos], tonumber(ARGV[pos + 1])
  if redis.call('EXISTS', KEYS[i]) == 1 then
    out[i] = redis.call('HGET', KEYS[i], 'status') or ''
  else
    redis.call('HSET', KEYS[i], unpack(ARGV, pos + 2, pos + 1 + argc))
    created = created + 1
    members[2 * created - 1] = 0
    members[2 * created] = id
    out[i] = 1
  end
  pos = pos + 2 + argc
end
if created > 0 then
  redis.call('ZADD', p .. ':jobs:all', unpack(members))
  redis.call('ZADD', p .. ':jobs:status:queued', unpack(members))
  redis.call('ZADD', p .. ':jobs:batch:' .. batch, unpack(members))
  redis.call('HINCRBY', p .. ':batch:' .. batch .. ':counts', 'queued', created)
end
return out
`;

/** Records per CREATE_JOBS call: its ZADDs unpack two values per record onto Lua's C stack (8,000 slots). */
const CREATE_JOBS_PER_CALL = 2_000;

/** A batch job's record as the batch writes it (everything else takes the job store's defaults). */
export type NewBatchJob = Pick<JobRecord, "id" | "model" | "input" | "metadata" | "estimated_cost_micro_usd" | "created_at"> &
  Partial<Pick<JobRecord, "key_id">>;

type ScriptRedis = Redis & {
  acebatchCreateBatch(record: string, index: string, ...args: string[]): Promise<number>;
  acebatchTransitionBatch(record: string, ...args: string[]): Promise<[number, string]>;
  acebatchClaimBatchField(record: string, field: string, value: string): Promise<string | null>;
  acebatchCreateJobs(numberOfKeys: number, ...args: string[]): Promise<(number | string)[]>;
};

function withScripts(redis: Redis): ScriptRedis {
  return withLuaScripts<ScriptRedis>(redis, {
    acebatchCreateBatch: { numberOfKeys: 2, lua: CREATE_BATCH },
    acebatchTransitionBatch: { numberOfKeys: 1, lua: TRANSITION_BATCH },
    acebatchClaimBatchField: { numberOfKeys: 1, lua: CLAIM_FIELD },
    acebatchCreateJobs: { lua: CREATE_JOBS },
  });
}

const ROW_DIGITS = 7;
const VARIATION_DIGITS = 3;
/** Rows and variations a batch job id can carry. */
export const MAX_BATCH_ROW = 10 ** ROW_DIGITS - 1;
export const MAX_BATCH_VARIATION = 10 ** VARIATION_DIGITS - 1;

/**
 * The deterministic id of a batch's job for (row, variation): `job_<batch body>-0000042`, with
 * `-002`… appended for later variations. Zero-padding makes lexicographic order row order, so the
 * batch index (a lex-ordered set) lists jobs in row order, and a retried upload re-derives the
 * same ids instead of duplicating jobs.
 */
export function batchJobId(batchId: string, row: number, variation = 1): string {
  if (!Number.isInteger(row) || row < 1 || row > MAX_BATCH_ROW) throw new RangeError(`row must be 1…${MAX_BATCH_ROW}, got ${row}`);
  if (!Number.isInteger(variation) || variation < 1 || variation > MAX_BATCH_VARIATION) {
    throw new RangeError(`variation must be 1…${MAX_BATCH_VARIATION}, got ${variation}`);
  }
  const ordinal = String(row).padStart(ROW_DIGITS, "0") + (variation > 1 ? `-${String(variation).padStart(VARIATION_DIGITS, "0")}` : "");
  return derivedId("job", batchId, ordinal);
}

const ORDINAL = /-(\d{7})(?:-(\d{3}))?$/;

/** The (row, variation) a batch job id encodes, or null for an id that is not a batch job's. */
export function batchJobRef(jobId: string): { row: number; variation: number } | null {
  const m = ORDINAL.exec(jobId);
  if (!m) return null;
  return { row: Number(m[1]), variation: m[2] ? Number(m[2]) : 1 };
}

/**
 * A (row, variation)'s place in row order as one number, as job ids sort: row-level entries
 * (variation 0, e.g. an invalid row) come just before that row's jobs.
 */
export function batchRowOrder(row: number, variation: number): number {
  return row * (MAX_BATCH_VARIATION + 1) + variation;
}

/** How long rows staged for an upload may wait for their commit (an abandoned upload's rows expire). */
export const STAGING_TTL_SECONDS = 3_600;

/** Batch records, their job index pages, and the staging area an upload is validated into. */
export function createBatchStore({ redis, prefix }: { redis: Redis; prefix: string }) {
  const keys = createKeys(prefix);
  const r = withScripts(redis);

  async function get(id: string): Promise<BatchRecord | null> {
    return decode(await redis.hgetall(keys.batch(id)));
  }

  /** Just the stored status (null: no such batch). */
  async function status(id: string): Promise<BatchStatus | null> {
    return (await redis.hget(keys.batch(id), "status")) as BatchStatus | null;
  }

  /** The record and its per-status job counts in one round trip (both O(1)). */
  async function getWithCounts(id: string): Promise<{ record: BatchRecord | null; counts: Partial<Record<JobStatus, number>> }> {
    const results = (await redis.pipeline().hgetall(keys.batch(id)).hgetall(keys.batchCounts(id)).exec()) ?? [];
    const [[recErr, recHash] = [null, {}], [countErr, countHash] = [null, {}]] = results;
    if (recErr) throw recErr;
    if (countErr) throw countErr;
    const counts = Object.fromEntries(Object.entries(countHash as Record<string, string>).map(([k, v]) => [k, Number(v)]));
    return { record: decode(recHash as Record<string, string>), counts };
  }

  /** Create the record (and list it) unless one with this id exists. */
  async function create(record: BatchRecord): Promise<{ created: boolean; record: BatchRecord }> {
    const created = await r.acebatchCreateBatch(keys.batch(record.id), keys.batchesAll(), record.id, ...encode(record));
    if (created === 1) return { created: true, record };
    const existing = await get(record.id);
    if (!existing) throw new Error(`batch ${record.id} exists but could not be read back`);
    return { created: false, record: existing };
  }

  /** Set fields and/or move the status, only if the current status is one of `from`. */
  async function transition(
    id: string,
    change: { from: readonly BatchStatus[] | "*"; to?: BatchStatus; set?: Partial<BatchRecord> },
  ): Promise<{ ok: true; previous: BatchStatus } | { ok: false; current: BatchStatus | null }> {
    const [code, status] = await r.acebatchTransitionBatch(
      keys.batch(id),
      change.from === "*" ? "*" : change.from.join(","),
      change.to ?? "",
      ...encode(change.set ?? {}),
    );
    if (code === 1) return { ok: true, previous: status as BatchStatus };
    return { ok: false, current: code === -1 ? null : (status as BatchStatus) };
  }

  /** Set `field` to `value` only if it is empty; returns the value it holds afterwards (null: no such batch). */
  async function claimField(id: string, field: "retried_by" | "processing_started_at" | "finished_at", value: string): Promise<string | null> {
    return r.acebatchClaimBatchField(keys.batch(id), field, value);
  }

  /**
   * Create many queued job records of one batch at once (each only if absent, as `JobStore.create`
   * would). Returns, per job, "created" or the status of the record that already existed.
   */
  async function createJobs(batchId: string, jobs: readonly NewBatchJob[]): Promise<("created" | JobRecord["status"])[]> {
    const outcomes: ("created" | JobRecord["status"])[] = [];
    for (let start = 0; start < jobs.length; start += CREATE_JOBS_PER_CALL) {
      const recordKeys: string[] = [];
      const args: string[] = [prefix, batchId];
      for (const job of jobs.slice(start, start + CREATE_JOBS_PER_CALL)) {
        recordKeys.push(keys.job(job.id));
        // The fields encodeNonEmptyFields would write for these keys, built directly: this runs for
        // every row of a 100k batch (the test checks the result is the same hash JobStore.create writes).
        const at = args.length + 1;
        args.push(job.id, "", "id", job.id, "model", job.model, "input", JSON.stringify(job.input), "batch_id", batchId);
        if (Object.keys(job.metadata).length > 0) args.push("metadata", JSON.stringify(job.metadata));
        if (job.estimated_cost_micro_usd !== null) args.push("estimated_cost_micro_usd", String(job.estimated_cost_micro_usd));
        if (job.key_id) args.push("key_id", job.key_id);
        args.push("created_at", job.created_at, "status", "queued");
        args[at] = String(args.length - at - 1);
      }
      const out = await r.acebatchCreateJobs(recordKeys.length, ...recordKeys, ...args);
      for (const v of out) outcomes.push(v === 1 ? "created" : (v as JobRecord["status"]));
    }
    return outcomes;
  }

  /** Newest first; `cursor` is the last id of the previous page. */
  async function list(limit: number, cursor?: string): Promise<{ records: BatchRecord[]; nextCursor: string | null }> {
    const ids = await redis.zrange(keys.batchesAll(), cursor ? `(${cursor}` : "+", "-", "BYLEX", "REV", "LIMIT", 0, limit + 1);
    const page = ids.slice(0, limit);
    const pipeline = redis.pipeline();
    for (const id of page) pipeline.hgetall(keys.batch(id));
    const hashes = ((await pipeline.exec()) ?? []).map(([err, hash]) => {
      if (err) throw err;
      return decode(hash as Record<string, string>);
    });
    const records = hashes.filter((h): h is BatchRecord => h !== null);
    return { records, nextCursor: ids.length > limit ? (page.at(-1) ?? null) : null };
  }

  /** Up to `count` job ids of a batch in row order, after `afterId` (exclusive) or from the start. */
  async function jobIds(batchId: string, count: number, afterId?: string | null): Promise<string[]> {
    return redis.zrangebylex(keys.jobsByBatch(batchId), afterId ? `(${afterId}` : "-", "+", "LIMIT", 0, count);
  }

  /** The last `count` job ids of a batch (row order). */
  async function lastJobIds(batchId: string, count: number): Promise<string[]> {
    return redis.zrange(keys.jobsByBatch(batchId), String(-count), "-1");
  }

  /** Append validated rows (opaque strings) to an upload's staging list; it expires if never committed. */
  async function stage(token: string, items: readonly string[]): Promise<void> {
    if (items.length === 0) return;
    await redis.multi().rpush(keys.batchStaging(token), ...items).expire(keys.batchStaging(token), STAGING_TTL_SECONDS).exec();
  }

  /** `count` staged rows from position `start`. */
  async function staged(token: string, start: number, count: number): Promise<string[]> {
    return redis.lrange(keys.batchStaging(token), start, start + count - 1);
  }

  async function dropStaging(token: string): Promise<void> {
    await redis.del(keys.batchStaging(token), keys.batchStagingWithoutJob(token));
  }

  /**
   * Stage rows of an upload that get no job (invalid, duplicate) as opaque members scored by their
   * place in row order; they arrive out of order (pricing lags parsing by a chunk), the set sorts them.
   */
  async function stageRowsWithoutJob(token: string, rows: readonly { order: number; member: string }[]): Promise<void> {
    if (rows.length === 0) return;
    const key = keys.batchStagingWithoutJob(token);
    await redis.multi().zadd(key, ...rows.flatMap((r) => [r.order, r.member])).expire(key, STAGING_TTL_SECONDS).exec();
  }

  /** Hand an upload's staged rows without a job to its batch (a repeat of the same upload replaces them with the same rows). */
  async function commitRowsWithoutJob(token: string, batchId: string): Promise<void> {
    const staged = keys.batchStagingWithoutJob(token);
    if ((await redis.exists(staged)) === 0) return;
    await redis.multi().rename(staged, keys.batchRowsWithoutJob(batchId)).persist(keys.batchRowsWithoutJob(batchId)).exec();
  }

  /** Up to `count` of a batch's rows without a job in row order, after order `afterOrder` (exclusive) or from the start. */
  async function rowsWithoutJob(batchId: string, count: number, afterOrder?: number | null): Promise<{ order: number; member: string }[]> {
    const flat = await redis.zrangebyscore(keys.batchRowsWithoutJob(batchId), afterOrder === null || afterOrder === undefined ? "-inf" : `(${afterOrder}`, "+inf", "WITHSCORES", "LIMIT", 0, count);
    const out: { order: number; member: string }[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ member: flat[i]!, order: Number(flat[i + 1]) });
    return out;
  }

  /** Keep the row errors and duplicates an upload reported, for `GET /v1/batches/{id}/errors`. */
  async function saveReport(id: string, report: unknown): Promise<void> {
    await redis.set(keys.batchReport(id), JSON.stringify(report));
  }

  async function getReport<T>(id: string): Promise<T | null> {
    const raw = await redis.get(keys.batchReport(id));
    return raw === null ? null : (JSON.parse(raw) as T);
  }

  return {
    get, status, getWithCounts, create, createJobs, transition, claimField, list, jobIds, lastJobIds, saveReport, getReport, keys,
    stage, staged, dropStaging, stageRowsWithoutJob, commitRowsWithoutJob, rowsWithoutJob,
  };
}

export type BatchStore = ReturnType<typeof createBatchStore>;

/**
 * BullMQ priority of batch jobs. In bullmq 6.7 a job added without a priority goes to the `wait`
 * list and one with a priority to the `prioritized` set, and `moveToActive` takes from `wait`
 * first (RPOPLPUSH) and only falls back to `prioritized` (ZPOPMIN) when `wait` is empty; retries
 * and delayed jobs return to the structure their priority names. So every single REST job (no
 * priority) is started before any batch job, however many batch jobs are queued, while batch jobs
 * among themselves run FIFO (equal priority → insertion order, i.e. row order). 100 leaves room
 * for expedited batches (1–99) without touching single jobs.
 */
export const BATCH_JOB_PRIORITY = 100;
