import type { Redis } from "ioredis";
import { createKeys } from "./keys.ts";

/** Publish a system event (job status changes are published by the job store's scripts). */
export async function publishEvent(redis: Redis, prefix: string, event: { type: string } & Record<string, unknown>): Promise<void> {
  await redis.publish(createKeys(prefix).events(), JSON.stringify({ ...event, at: new Date().toISOString() }));
}
