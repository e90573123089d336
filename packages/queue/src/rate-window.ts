import type { Redis } from "ioredis";
import { createKeys } from "./keys.ts";
import { withLuaScripts } from "./lua-scripts.ts";

/** Requests counted in the current fixed window of one client, and when that window ends. */
export interface RateWindow {
  count: number;
  resetInMs: number;
}

/**
 * A Lua function, pasted into every script that counts a request: add one to a fixed window's
 * counter (the window starts with its first request) and return `{count, ms until it resets}`.
 * Scripts that count a request on the way (the API key lookup) define it too, so the count costs
 * no round trip of its own.
 */
export const COUNT_IN_WINDOW_LUA = `
local function countInWindow(key, windowMs)
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, windowMs)
    ttl = tonumber(windowMs)
  end
  return {count, ttl}
end
`;

/** KEYS[1] counter; ARGV[1] window ms. */
const COUNT_REQUEST = `${COUNT_IN_WINDOW_LUA}
return countInWindow(KEYS[1], ARGV[1])
`;

type ScriptRedis = Redis & { acebatchCountRequest(key: string, windowMs: string): Promise<[number, number]> };

/** `{count, ttl}` as a script returns it. */
export function toRateWindow([count, ttl]: readonly [number, number]): RateWindow {
  return { count, resetInMs: Math.max(0, ttl) };
}

/**
 * Per-client request counters in fixed windows, shared by every process on the same Redis
 * (`<prefix>:ratelimit:<client>`, one key per client and window, expiring with it).
 */
export function createRateCounter({ redis, prefix }: { redis: Redis; prefix: string }) {
  const keys = createKeys(prefix);
  const r = withLuaScripts<ScriptRedis>(redis, { acebatchCountRequest: { numberOfKeys: 1, lua: COUNT_REQUEST } });
  return {
    /** Count one request of `client` (e.g. `ip:10.0.0.1`) in its current window. */
    async hit(client: string, windowMs: number): Promise<RateWindow> {
      return toRateWindow(await r.acebatchCountRequest(keys.rateLimit(client), String(windowMs)));
    },
  };
}

export type RateCounter = ReturnType<typeof createRateCounter>;
