import { createKeys } from "@acebatch/queue";
import type { Redis } from "ioredis";
import type { Trigger } from "./occurrence.ts";
import type { ScheduleSpec } from "./schedule-schema.ts";
import { CLAIM_OCCURRENCE, CREATE_SCHEDULE, UPDATE_SCHEDULE } from "./schedule-scripts.ts";
import { withLuaScripts } from "@acebatch/queue";

/**
 * `skipped_superseded`: an occurrence that only got processed after a later one had been decided
 * (a crashed worker's job, re-run once its lock expired): running it would be a second catch-up.
 */
export const OUTCOMES = ["enqueued", "caught_up", "skipped_overlap", "skipped_budget", "skipped_disabled", "skipped_superseded"] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** How many audit rows a schedule keeps (newest first). */
export const HISTORY_LENGTH = 100;
/** How long an occurrence's claim is remembered, so retries converge (seconds). */
export const CLAIM_TTL_SECONDS = 7 * 86_400;

/** A schedule as stored: its definition plus the counters the occurrences move. */
export interface ScheduleRecord {
  id: string;
  /** Bumped by every change of the definition. */
  version: number;
  spec: ScheduleSpec;
  /** A point of the `every_seconds` grid (its first run); unused for cron. */
  anchor_ms: number;
  /** Runs enqueued so far (scheduled, caught up and manual); run numbers count from 0. */
  runs_total: number;
  /** Index into `tags_rotation` of the next run's tags. */
  rotation_index: number;
  /** Occurrences decided so far, whatever their outcome. */
  occurrences_total: number;
  last_job_id: string | null;
  last_run_at: string | null;
  last_occurrence_at: string | null;
  created_at: string;
  updated_at: string;
}

/** One audit row: what one occurrence did. Money in micro-dollars, times ISO-8601. */
export interface AuditRow {
  /** The occurrence's identity (see occurrenceKey). */
  occurrence: string;
  trigger: Trigger;
  scheduled_at: string;
  fired_at: string;
  late_ms: number;
  /** It ran in place of runs missed while nothing was running. */
  caught_up: boolean;
  outcome: Outcome;
  /** For skipped_budget: `per_run_cap`, `per_period_cap` or `estimate_unknown`. */
  reason: string | null;
  job_id: string | null;
  run_number: number | null;
  /** The tags and seed this occurrence ran with (or would have). */
  tags: string;
  seed: number;
  estimated_cost_micro_usd: number | null;
  period_key: string | null;
  period_spent_micro_usd?: number;
  cap_micro_usd?: number | null;
  blocking_job_id?: string;
  blocking_job_status?: string;
}

/** The job an enqueued occurrence creates, fixed at claim time so a retry creates the same one. */
export interface ClaimedJob {
  id: string;
  model: ScheduleSpec["model"];
  input: Record<string, unknown>;
  metadata: ScheduleSpec["metadata"];
  webhook_url: string | null;
  estimated_cost_micro_usd: number | null;
  created_at: string;
}

export interface Claim {
  row: AuditRow;
  job: ClaimedJob | null;
}

export interface ClaimRequest {
  scheduleId: string;
  occurrence: string;
  expectedVersion: number;
  expectedRuns: number;
  nowMs: number;
  disabled: boolean;
  overlap: ScheduleSpec["overlap"];
  estimateMicroUsd: number | null;
  capPerRunMicroUsd: number | null;
  capPerPeriodMicroUsd: number | null;
  /** The period counter to check and count in, or null when the schedule has no period budget. */
  period: { key: string; ttlSeconds: number } | null;
  nextRotationIndex: number;
  caughtUp: boolean;
  row: Omit<AuditRow, "outcome" | "reason" | "job_id" | "run_number">;
  job: ClaimedJob;
}

export type ClaimResult = { status: "claimed"; claim: Claim } | { status: "existing"; claim: Claim } | { status: "conflict" } | { status: "missing" };

type ScriptRedis = Redis & {
  acebatchCreateSchedule(k1: string, k2: string, ...args: string[]): Promise<number>;
  acebatchUpdateSchedule(k1: string, ...args: string[]): Promise<number>;
  acebatchClaimOccurrence(k1: string, k2: string, k3: string, k4: string, ...args: string[]): Promise<[string, string]>;
};

function withScripts(redis: Redis): ScriptRedis {
  return withLuaScripts<ScriptRedis>(redis, {
    acebatchCreateSchedule: { numberOfKeys: 2, lua: CREATE_SCHEDULE },
    acebatchUpdateSchedule: { numberOfKeys: 1, lua: UPDATE_SCHEDULE },
    acebatchClaimOccurrence: { numberOfKeys: 4, lua: CLAIM_OCCURRENCE },
  });
}

/** A claimed job whose record is missing counts as in flight for this long (ms). */
const CLAIMED_IN_FLIGHT_MS = 10 * 60_000;

function decode(hash: Record<string, string>): ScheduleRecord | null {
  if (!hash.id || !hash.spec) return null;
  const int = (v: string | undefined) => (v === undefined || v === "" ? 0 : Number(v));
  const str = (v: string | undefined) => (v === undefined || v === "" ? null : v);
  return {
    id: hash.id,
    version: int(hash.version),
    spec: JSON.parse(hash.spec) as ScheduleSpec,
    anchor_ms: int(hash.anchor_ms),
    runs_total: int(hash.runs_total),
    rotation_index: int(hash.rotation_index),
    occurrences_total: int(hash.occurrences_total),
    last_job_id: str(hash.last_job_id),
    last_run_at: str(hash.last_run_at),
    last_occurrence_at: str(hash.last_occurrence_at),
    created_at: hash.created_at ?? "",
    updated_at: hash.updated_at ?? "",
  };
}

/** Schedule records, their audit history and occurrence claims in Redis. */
export function createScheduleStore({ redis, prefix }: { redis: Redis; prefix: string }) {
  const keys = createKeys(prefix);
  const r = withScripts(redis);

  async function get(id: string): Promise<ScheduleRecord | null> {
    return decode(await redis.hgetall(keys.schedule(id)));
  }

  /** Create the record unless one with this id exists; returns whether it was created. */
  async function create(rec: { id: string; spec: ScheduleSpec; anchor_ms: number; created_at: string }): Promise<boolean> {
    const created = await r.acebatchCreateSchedule(
      keys.schedule(rec.id),
      keys.schedulesAll(),
      rec.id,
      ...["id", rec.id, "version", "1", "spec", JSON.stringify(rec.spec), "anchor_ms", String(rec.anchor_ms)],
      ...["runs_total", "0", "rotation_index", "0", "occurrences_total", "0", "created_at", rec.created_at, "updated_at", rec.created_at],
    );
    return created === 1;
  }

  /** Replace the definition if the record is still at `expectedVersion`. */
  async function update(
    id: string,
    expectedVersion: number,
    change: { spec: ScheduleSpec; updated_at: string; anchor_ms?: number; rotation_index?: number },
  ): Promise<"ok" | "conflict" | "missing"> {
    const fields = ["spec", JSON.stringify(change.spec), "updated_at", change.updated_at];
    if (change.anchor_ms !== undefined) fields.push("anchor_ms", String(change.anchor_ms));
    if (change.rotation_index !== undefined) fields.push("rotation_index", String(change.rotation_index));
    const result = await r.acebatchUpdateSchedule(keys.schedule(id), String(expectedVersion), ...fields);
    return result === -1 ? "missing" : result === 0 ? "conflict" : "ok";
  }

  /** Delete the record, its index entry and its history (jobs it created are kept). */
  async function remove(id: string): Promise<boolean> {
    const [[, deleted]] = ((await redis.multi().del(keys.schedule(id)).zrem(keys.schedulesAll(), id).del(keys.scheduleHistory(id)).exec()) ?? [[null, 0]]) as [
      [Error | null, number],
    ];
    return deleted === 1;
  }

  /** Newest first; `cursor` is the last id of the previous page. */
  async function list(query: { limit: number; cursor?: string }): Promise<{ records: ScheduleRecord[]; nextCursor: string | null }> {
    const max = query.cursor ? `(${query.cursor}` : "+";
    const ids = await redis.zrange(keys.schedulesAll(), max, "-", "BYLEX", "REV", "LIMIT", 0, query.limit + 1);
    const page = ids.slice(0, query.limit);
    const pipeline = redis.pipeline();
    for (const id of page) pipeline.hgetall(keys.schedule(id));
    const results = (await pipeline.exec()) ?? [];
    const records = results.map(([err, hash]) => {
      if (err) throw err;
      return decode(hash as Record<string, string>);
    });
    return { records: records.filter((x): x is ScheduleRecord => x !== null), nextCursor: ids.length > query.limit ? page.at(-1)! : null };
  }

  /** Every schedule id (for the reconciler), in pages. */
  async function* allIds(pageSize = 500): AsyncGenerator<string[]> {
    let max = "+";
    for (;;) {
      const ids = await redis.zrange(keys.schedulesAll(), max, "-", "BYLEX", "REV", "LIMIT", 0, pageSize);
      if (ids.length === 0) return;
      yield ids;
      if (ids.length < pageSize) return;
      max = `(${ids.at(-1)}`;
    }
  }

  /** The audit rows, newest first. */
  async function history(id: string, limit = HISTORY_LENGTH): Promise<AuditRow[]> {
    const raw = await redis.lrange(keys.scheduleHistory(id), 0, Math.max(0, limit - 1));
    return raw.map((row) => JSON.parse(row) as AuditRow);
  }

  /** Estimated micro-dollars of the runs enqueued in a budget period. */
  async function periodSpend(id: string, periodKey: string): Promise<number> {
    return Number((await redis.get(keys.scheduleSpend(id, periodKey))) ?? 0);
  }

  async function claimOf(id: string, occurrence: string): Promise<Claim | null> {
    const raw = await redis.get(keys.scheduleOccurrence(id, occurrence));
    return raw ? (JSON.parse(raw) as Claim) : null;
  }

  /** Decide an occurrence once (see CLAIM_OCCURRENCE). */
  async function claim(req: ClaimRequest): Promise<ClaimResult> {
    const opt = (v: number | null) => String(v ?? -1);
    const [status, raw] = await r.acebatchClaimOccurrence(
      keys.schedule(req.scheduleId),
      keys.scheduleOccurrence(req.scheduleId, req.occurrence),
      keys.scheduleHistory(req.scheduleId),
      keys.scheduleSpend(req.scheduleId, req.period?.key ?? "none"),
      keys.job(""),
      String(req.expectedVersion),
      String(req.expectedRuns),
      String(req.nowMs),
      req.disabled ? "1" : "0",
      req.overlap,
      opt(req.estimateMicroUsd),
      opt(req.capPerRunMicroUsd),
      opt(req.capPerPeriodMicroUsd),
      req.period ? "1" : "0",
      req.job.id,
      String(req.nextRotationIndex),
      String(CLAIM_TTL_SECONDS),
      String(HISTORY_LENGTH),
      JSON.stringify({ ...req.row, job_id: null, run_number: null, reason: null }),
      JSON.stringify(req.job),
      req.caughtUp ? "1" : "0",
      String(CLAIMED_IN_FLIGHT_MS),
      String(req.period?.ttlSeconds ?? 60),
      String(req.row.trigger === "schedule" ? Date.parse(req.row.scheduled_at) : -1),
    );
    if (status === "claimed" || status === "existing") return { status, claim: JSON.parse(raw) as Claim };
    if (status === "conflict") return { status };
    if (status === "missing") return { status };
    throw new Error(`unexpected claim answer ${status}`);
  }

  return { get, create, update, remove, list, allIds, history, periodSpend, claimOf, claim, keys };
}

export type ScheduleStore = ReturnType<typeof createScheduleStore>;
