// Vitest globalSetup: one Redis for the whole run. Test files get its URL with
// `inject("redisUrl")` (child processes they start get it passed explicitly); it is also in
// ACEBATCH_TEST_REDIS_URL. Every test file must use its own uniquePrefix() and never FLUSHDB/FLUSHALL:
// files run in parallel against this one Redis, and with REDIS_URL set it may be someone else's.
import type { TestProject } from "vitest/node";
import { setTestRedisUrlEnv } from "./env.ts";
import { startTestRedis } from "./test-redis.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** redis:// URL of the Redis started (or chosen via REDIS_URL) for this test run. */
    redisUrl: string;
    /** Where that Redis came from. */
    redisSource: "env" | "testcontainers" | "spawned";
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await startTestRedis();
  project.provide("redisUrl", redis.url);
  project.provide("redisSource", redis.source);
  setTestRedisUrlEnv(redis.url);
  console.log(`[acebatch/testing] Redis for this run: ${redis.url} (${redis.source})`);
  return async () => {
    setTestRedisUrlEnv(undefined);
    await redis.stop();
  };
}
