import type { Redis } from "ioredis";

export interface LuaScript {
  /** How many leading arguments are keys; omitted = the caller passes it first on every call. */
  numberOfKeys?: number;
  lua: string;
}

/**
 * Register named Lua scripts on a connection, once per connection (ioredis then sends EVALSHA and
 * falls back to EVAL after a Redis restart), and return the connection typed with them.
 */
export function withLuaScripts<R extends Redis>(redis: Redis, scripts: Record<string, LuaScript>): R {
  const target = redis as unknown as Record<string, unknown>;
  for (const [name, script] of Object.entries(scripts)) {
    if (typeof target[name] !== "function") redis.defineCommand(name, script);
  }
  return redis as R;
}
