import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { createKeys } from "./keys.ts";

/**
 * A deployment-wide secret shared by every process through Redis: the first process to ask creates
 * it (SET NX), the rest read the same value. Used when the operator has not configured one.
 */
export async function sharedSecret(redis: Redis, prefix: string, name: string): Promise<string> {
  const key = createKeys(prefix).secret(name);
  await redis.set(key, randomBytes(32).toString("base64url"), "NX");
  const value = await redis.get(key);
  if (!value) throw new Error(`shared secret ${name} could not be read back from Redis`);
  return value;
}
