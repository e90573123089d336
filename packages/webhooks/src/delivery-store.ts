import type { Redis } from "ioredis";
import type { EventType } from "./events.ts";
import { webhookKeys } from "./keys.ts";
import { withLuaScripts } from "@acebatch/queue";

export const DELIVERY_STATUSES = ["pending", "delivered", "dead"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One event's delivery to one destination: the durable record behind the BullMQ job. `body` is
 * stored once, so every retry and replay sends the same bytes under the same `webhook-id` (`id`).
 */
export interface DeliveryRecord {
  id: string;
  event_id: string;
  event_type: EventType;
  /** The job or batch the event is about (null for account-wide events). */
  subject_id: string | null;
  /** The account-level endpoint, or null for a job's / batch's / schedule's own `webhook_url`. */
  endpoint_id: string | null;
  url: string;
  body: string;
  status: DeliveryStatus;
  /** HTTP attempts made so far, over every replay. */
  attempts: number;
  replays: number;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
  dead_at: string | null;
}

export type NewDelivery = Pick<DeliveryRecord, "id" | "event_id" | "event_type" | "subject_id" | "endpoint_id" | "url" | "body" | "created_at">;

/** How long a delivered record is kept for inspection (seconds); dead ones stay until replayed. */
export const DELIVERED_RETENTION_SECONDS = 7 * 86_400;

const INT_FIELDS = new Set(["attempts", "replays", "last_status_code"]);

function encode(fields: Partial<DeliveryRecord>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out.push(key, value === null ? "" : String(value));
  }
  return out;
}

function decode(hash: Record<string, string>): DeliveryRecord | null {
  if (!hash.id) return null;
  const rec: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(hash)) {
    if (key === "body") rec[key] = raw;
    else if (raw === "") rec[key] = null;
    else if (INT_FIELDS.has(key)) rec[key] = Number(raw);
    else rec[key] = raw;
  }
  return rec as unknown as DeliveryRecord;
}

/** KEYS[1] record, KEYS[2] pending index; ARGV[1] id, ARGV[2] score (ms), ARGV[3..] pairs. 1 created, 0 existed. */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
`;

/**
 * Record one attempt of a pending delivery. KEYS[1] record; ARGV[1] index key base, ARGV[2] id,
 * ARGV[3] outcome (delivered | retry | dead), ARGV[4] now (ms), ARGV[5] delivered retention (s),
 * ARGV[6..] pairs. Returns 1, 0 when the delivery is no longer pending, -1 when it is missing.
 */
const RECORD_ATTEMPT = `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return -1 end
if cur ~= 'pending' then return 0 end
local idx, id, outcome, now, keep = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if #ARGV >= 7 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 6))
end
if outcome ~= 'retry' then
  redis.call('HSET', KEYS[1], 'status', outcome)
  redis.call('ZREM', idx .. 'pending', id)
  redis.call('ZADD', idx .. outcome, now, id)
  if outcome == 'delivered' then
    redis.call('EXPIRE', KEYS[1], keep)
    redis.call('ZREMRANGEBYSCORE', idx .. 'delivered', '-inf', '(' .. (now - keep * 1000))
  end
end
return 1
`;

/**
 * Make a finished (dead or delivered) delivery pending again. KEYS[1] record; ARGV[1] index key
 * base, ARGV[2] id, ARGV[3] now (ms), ARGV[4] now (ISO). Returns the replay ordinal, 0 when it is
 * still pending, -1 when it is missing.
 */
const REPLAY = `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return -1 end
if cur == 'pending' then return 0 end
local idx, id = ARGV[1], ARGV[2]
redis.call('ZREM', idx .. cur, id)
redis.call('ZADD', idx .. 'pending', ARGV[3], id)
redis.call('PERSIST', KEYS[1])
redis.call('HSET', KEYS[1], 'status', 'pending', 'next_attempt_at', ARGV[4], 'dead_at', '', 'delivered_at', '')
return redis.call('HINCRBY', KEYS[1], 'replays', 1)
`;

type ScriptRedis = Redis & {
  acebatchCreateDelivery(record: string, index: string, ...args: string[]): Promise<number>;
  acebatchRecordDeliveryAttempt(record: string, ...args: string[]): Promise<number>;
  acebatchReplayDelivery(record: string, ...args: string[]): Promise<number>;
};

function withScripts(redis: Redis): ScriptRedis {
  return withLuaScripts<ScriptRedis>(redis, {
    acebatchCreateDelivery: { numberOfKeys: 2, lua: CREATE },
    acebatchRecordDeliveryAttempt: { numberOfKeys: 1, lua: RECORD_ATTEMPT },
    acebatchReplayDelivery: { numberOfKeys: 1, lua: REPLAY },
  });
}

export interface AttemptOutcome {
  outcome: "delivered" | "retry" | "dead";
  statusCode: number | null;
  error: string | null;
  at: Date;
  /** When the next attempt is due (retry only). */
  nextAttemptAt?: Date | null;
}

/** Delivery records with an index per status: the dead ones are the dead-letter list. */
export function createDeliveryStore({ redis, prefix }: { redis: Redis; prefix: string }) {
  const keys = webhookKeys(prefix);
  const r = withScripts(redis);
  const indexBase = keys.deliveriesByStatus("");

  async function get(id: string): Promise<DeliveryRecord | null> {
    return decode(await redis.hgetall(keys.delivery(id)));
  }

  /** Create the record as pending unless one with this id exists (a second dispatcher's attempt). */
  async function createIfAbsent(delivery: NewDelivery): Promise<{ created: boolean; record: DeliveryRecord }> {
    const record: DeliveryRecord = {
      ...delivery,
      status: "pending",
      attempts: 0,
      replays: 0,
      last_status_code: null,
      last_error: null,
      last_attempt_at: null,
      next_attempt_at: delivery.created_at,
      delivered_at: null,
      dead_at: null,
    };
    const created = await r.acebatchCreateDelivery(keys.delivery(delivery.id), keys.deliveriesByStatus("pending"), delivery.id, String(Date.parse(delivery.created_at)), ...encode(record));
    if (created === 1) return { created: true, record };
    const existing = await get(delivery.id);
    if (!existing) throw new Error(`delivery ${delivery.id} exists but could not be read back`);
    return { created: false, record: existing };
  }

  /** Record an attempt's outcome; false when the delivery is gone or no longer pending. */
  async function recordAttempt(id: string, attempt: AttemptOutcome): Promise<boolean> {
    const at = attempt.at.toISOString();
    const fields: Partial<DeliveryRecord> = {
      last_status_code: attempt.statusCode,
      last_error: attempt.error === null ? null : attempt.error.slice(0, 500),
      last_attempt_at: at,
      next_attempt_at: attempt.outcome === "retry" ? (attempt.nextAttemptAt?.toISOString() ?? null) : null,
      ...(attempt.outcome === "delivered" ? { delivered_at: at } : {}),
      ...(attempt.outcome === "dead" ? { dead_at: at } : {}),
    };
    const code = await r.acebatchRecordDeliveryAttempt(
      keys.delivery(id),
      indexBase,
      id,
      attempt.outcome,
      String(attempt.at.getTime()),
      String(DELIVERED_RETENTION_SECONDS),
      ...encode(fields),
    );
    return code === 1;
  }

  /** Make a dead (or delivered) delivery pending again; returns its replay ordinal. */
  async function replay(id: string, now: Date = new Date()): Promise<{ ok: true; replay: number } | { ok: false; reason: "missing" | "pending" }> {
    const code = await r.acebatchReplayDelivery(keys.delivery(id), indexBase, id, String(now.getTime()), now.toISOString());
    if (code === -1) return { ok: false, reason: "missing" };
    if (code === 0) return { ok: false, reason: "pending" };
    return { ok: true, replay: code };
  }

  /** Newest first; `offset` pages (the next page's offset is returned while more exist). */
  async function list(status: DeliveryStatus, limit: number, offset = 0): Promise<{ records: DeliveryRecord[]; nextOffset: number | null }> {
    const ids = await redis.zrevrange(keys.deliveriesByStatus(status), offset, offset + limit);
    const page = ids.slice(0, limit);
    const pipeline = redis.pipeline();
    for (const id of page) pipeline.hgetall(keys.delivery(id));
    const results = (await pipeline.exec()) ?? [];
    const records = results
      .map(([err, hash]) => {
        if (err) throw err;
        return decode(hash as Record<string, string>);
      })
      .filter((rec): rec is DeliveryRecord => rec !== null);
    return { records, nextOffset: ids.length > limit ? offset + limit : null };
  }

  async function count(status: DeliveryStatus): Promise<number> {
    return redis.zcard(keys.deliveriesByStatus(status));
  }

  return { get, createIfAbsent, recordAttempt, replay, list, count };
}

export type DeliveryStore = ReturnType<typeof createDeliveryStore>;
