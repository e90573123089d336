import type { Redis } from "ioredis";
import { createKeys } from "./keys.ts";

/** Why the provider is refusing work, shared by every process (API readiness, worker probes). */
export interface ProviderAuthFailure {
  since: string;
  message: string;
}

/** Record that the provider refuses our token; the first failure's time is kept. */
export async function recordProviderAuthFailure(redis: Redis, prefix: string, failure: ProviderAuthFailure): Promise<boolean> {
  const set = await redis.set(createKeys(prefix).providerAuthFailure(), JSON.stringify(failure), "NX");
  return set === "OK";
}

export async function clearProviderAuthFailure(redis: Redis, prefix: string): Promise<boolean> {
  return (await redis.del(createKeys(prefix).providerAuthFailure())) === 1;
}

export async function readProviderAuthFailure(redis: Redis, prefix: string): Promise<ProviderAuthFailure | null> {
  const raw = await redis.get(createKeys(prefix).providerAuthFailure());
  return raw ? (JSON.parse(raw) as ProviderAuthFailure) : null;
}
