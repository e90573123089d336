import { sharedSecret } from "@acebatch/queue";
import type { Redis } from "ioredis";
import { secretFromKey } from "./signing.ts";

/**
 * The secret that signs deliveries to per-job/batch/schedule `webhook_url`s: `WEBHOOK_SECRET` when
 * the operator set one, otherwise one deployment-wide secret created once in Redis, so every worker
 * signs with the same key and it survives restarts.
 */
export async function resolveWebhookSecret(redis: Redis, prefix: string, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  return secretFromKey(Buffer.from(await sharedSecret(redis, prefix, "webhook-signing"), "base64url"));
}
