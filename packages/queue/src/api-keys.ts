import { hash, randomBytes } from "node:crypto";
import { newId } from "@acebatch/contracts";
import type { Redis } from "ioredis";
import { createKeys } from "./keys.ts";
import { COUNT_IN_WINDOW_LUA, toRateWindow, type RateWindow } from "./rate-window.ts";

/** An API key as stored: never the secret itself, only its SHA-256. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  scopes: string[];
  /** The first characters of the secret (`ak_AbCd`), so an operator can tell keys apart. */
  key_hint: string;
  /** Requests per minute for this key; null = the API's default. */
  rate_limit_per_minute: number | null;
  /** Whether a per-key budget was set on the ledger (scope `{kind: "key", id}`). */
  has_budget: boolean;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface NewApiKey {
  name: string;
  scopes: readonly string[];
  rate_limit_per_minute?: number | null;
  has_budget?: boolean;
}

/** How long a key's `last_used_at` may lag: at most one write per key per interval (milliseconds). */
export const LAST_USED_INTERVAL_MS = 60_000;

const SECRET_PREFIX = "ak_";

/** SHA-256 (hex) of a secret key: the only form of it that is ever stored. */
export function hashApiKey(secret: string): string {
  return hash("sha256", secret, "hex");
}

/** Whether a bearer token has the shape of a stored API key (cheap check before any Redis call). */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(SECRET_PREFIX) && token.length >= 20 && token.length <= 200;
}

/** What authenticating a request needs of a stored key (the lookup reads nothing more). */
export type ApiKeyAuth = Pick<ApiKeyRecord, "id" | "scopes" | "rate_limit_per_minute" | "revoked_at">;

/**
 * Look a key up by the hash of its secret and, when it is live: mark it used now if it was last
 * marked more than ARGV[4] ms ago, and, when ARGV[5] (a rate window, ms) is not 0, count this
 * request against the key's window (the counter ARGV[6] .. id, i.e. `keys.rateLimit("key:<id>")`),
 * in the same round trip. Reads only the fields authentication needs: this runs on every request.
 * KEYS[1] hash index; ARGV[1] prefix, ARGV[2] now ms, ARGV[3] now ISO, ARGV[4] interval ms,
 * ARGV[5] window ms, ARGV[6] the key counters' common prefix.
 * Returns {{id, scopes, rate_limit_per_minute, revoked_at}, {count, ttl} or {}}, or false.
 */
const LOOKUP = `${COUNT_IN_WINDOW_LUA}
local id = redis.call('GET', KEYS[1])
if not id then return false end
local rkey = ARGV[1] .. ':apikey:' .. id
local f = redis.call('HMGET', rkey, 'id', 'scopes', 'rate_limit_per_minute', 'revoked_at', 'last_used_ms')
if not f[1] then return false end
local window = {}
if not f[4] or f[4] == '' then
  if tonumber(ARGV[2]) - (tonumber(f[5] or '0') or 0) >= tonumber(ARGV[4]) then
    redis.call('HSET', rkey, 'last_used_ms', ARGV[2], 'last_used_at', ARGV[3])
  end
  if ARGV[5] ~= '0' then window = countInWindow(ARGV[6] .. id, ARGV[5]) end
end
return {{f[1], f[2] or '', f[3] or '', f[4] or ''}, window}
`;

type ScriptRedis = Redis & {
  acebatchApiKeyLookup(key: string, ...args: string[]): Promise<[[string, string, string, string], [number, number] | []] | null>;
};

function withScripts(redis: Redis): ScriptRedis {
  const r = redis as ScriptRedis;
  if (typeof r.acebatchApiKeyLookup !== "function") redis.defineCommand("acebatchApiKeyLookup", { numberOfKeys: 1, lua: LOOKUP });
  return r;
}

function decode(hash: Record<string, string>): ApiKeyRecord | null {
  if (!hash.id) return null;
  return {
    id: hash.id,
    name: hash.name ?? "",
    scopes: JSON.parse(hash.scopes || "[]") as string[],
    key_hint: hash.key_hint ?? "",
    rate_limit_per_minute: hash.rate_limit_per_minute ? Number(hash.rate_limit_per_minute) : null,
    has_budget: hash.has_budget === "1",
    created_at: hash.created_at ?? "",
    last_used_at: hash.last_used_at || null,
    revoked_at: hash.revoked_at || null,
  };
}

/**
 * API keys in Redis: a hash per key, an index from the secret's SHA-256 to the id, and a list of
 * all ids. Nothing is cached in memory, so a revocation holds at once in every API process.
 */
export function createApiKeyStore({ redis, prefix, now = () => new Date() }: { redis: Redis; prefix: string; now?: () => Date }) {
  const keys = createKeys(prefix);
  const r = withScripts(redis);

  /** Create a key; returns its record and the secret, which exists nowhere else from now on. */
  async function create(input: NewApiKey): Promise<{ record: ApiKeyRecord; secret: string }> {
    const secret = `${SECRET_PREFIX}${randomBytes(32).toString("base64url")}`;
    const record: ApiKeyRecord = {
      id: newId("key", now().getTime()),
      name: input.name,
      scopes: [...input.scopes],
      key_hint: secret.slice(0, SECRET_PREFIX.length + 4),
      rate_limit_per_minute: input.rate_limit_per_minute ?? null,
      has_budget: input.has_budget ?? false,
      created_at: now().toISOString(),
      last_used_at: null,
      revoked_at: null,
    };
    const hash = hashApiKey(secret);
    await redis
      .multi()
      .hset(keys.apiKey(record.id), {
        id: record.id,
        name: record.name,
        scopes: JSON.stringify(record.scopes),
        key_hint: record.key_hint,
        key_hash: hash,
        rate_limit_per_minute: record.rate_limit_per_minute === null ? "" : String(record.rate_limit_per_minute),
        has_budget: record.has_budget ? "1" : "0",
        created_at: record.created_at,
        last_used_at: "",
        last_used_ms: "0",
        revoked_at: "",
      })
      .set(keys.apiKeyByHash(hash), record.id)
      .zadd(keys.apiKeysAll(), 0, record.id)
      .exec();
    return { record, secret };
  }

  async function get(id: string): Promise<ApiKeyRecord | null> {
    return decode(await redis.hgetall(keys.apiKey(id)));
  }

  /** The key of a presented secret (revoked ones included: the caller tells them apart), marked used; or null. */
  async function findBySecret(secret: string): Promise<ApiKeyAuth | null> {
    return (await lookup(secret, 0))?.key ?? null;
  }

  /**
   * `findBySecret` that also counts the request against the key's rate window of `windowMs`, in
   * the same round trip; `window` is null for a revoked key (it is refused, not counted).
   */
  async function findBySecretCounting(secret: string, windowMs: number): Promise<{ key: ApiKeyAuth; window: RateWindow | null } | null> {
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
    return lookup(secret, windowMs);
  }

  async function lookup(secret: string, windowMs: number): Promise<{ key: ApiKeyAuth; window: RateWindow | null } | null> {
    const at = now();
    const found = await r.acebatchApiKeyLookup(keys.apiKeyByHash(hashApiKey(secret)), prefix, String(at.getTime()), at.toISOString(), String(LAST_USED_INTERVAL_MS), String(windowMs), keys.rateLimit("key:"));
    if (!found) return null;
    const [[id, scopes, rateLimit, revokedAt], window] = found;
    const key: ApiKeyAuth = {
      id,
      scopes: JSON.parse(scopes || "[]") as string[],
      rate_limit_per_minute: rateLimit ? Number(rateLimit) : null,
      revoked_at: revokedAt || null,
    };
    return { key, window: window.length === 2 ? toRateWindow(window) : null };
  }

  /** Every key, newest first. */
  async function list(): Promise<ApiKeyRecord[]> {
    const ids = await redis.zrange(keys.apiKeysAll(), "+", "-", "BYLEX", "REV");
    if (ids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.apiKey(id));
    const results = (await pipeline.exec()) ?? [];
    return results.flatMap(([err, hash]) => {
      if (err) throw err;
      const rec = decode(hash as Record<string, string>);
      return rec ? [rec] : [];
    });
  }

  /** Revoke a key (the first revocation time is kept); null when it does not exist. */
  async function revoke(id: string): Promise<ApiKeyRecord | null> {
    const key = keys.apiKey(id);
    // Only the first revocation writes its time, so the record says when access really ended.
    const revoked = await redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end local v = redis.call('HGET', KEYS[1], 'revoked_at') if not v or v == '' then redis.call('HSET', KEYS[1], 'revoked_at', ARGV[1]) end return 1",
      1,
      key,
      now().toISOString(),
    );
    return revoked === 1 ? get(id) : null;
  }

  /** Record that a per-key budget exists (or not). False when the key does not exist. */
  async function setHasBudget(id: string, hasBudget: boolean): Promise<boolean> {
    const set = await redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end redis.call('HSET', KEYS[1], 'has_budget', ARGV[1]) return 1",
      1,
      keys.apiKey(id),
      hasBudget ? "1" : "0",
    );
    return set === 1;
  }

  return { create, get, findBySecret, findBySecretCounting, list, revoke, setHasBudget };
}

export type ApiKeyStore = ReturnType<typeof createApiKeyStore>;
