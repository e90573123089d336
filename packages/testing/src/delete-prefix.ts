import type { Redis } from "ioredis";

/**
 * Delete every key that starts with `prefix` (SCAN + UNLINK, never FLUSHDB: the Redis may be shared
 * by parallel test files). Returns how many keys were removed.
 */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  let cursor = "0";
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) removed += await redis.unlink(...keys);
  } while (cursor !== "0");
  return removed;
}
