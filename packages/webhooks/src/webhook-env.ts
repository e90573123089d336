import { ConfigError, envFields } from "@acebatch/config";
import { createAddressPolicy } from "@acebatch/pricing";
import { z } from "zod";
import { DEFAULT_RETRY_SCHEDULE_MS, parseRetrySchedule } from "./delivery-queue.ts";
import { secretProblem } from "./signing.ts";

/**
 * Webhook variables, read the same way by the API and the worker. Spread into a service's env
 * shape, then turn the parsed values into settings with `loadWebhookSettings`.
 */
export const webhookEnvShape = {
  /** Standard Webhooks secret (`whsec_…`) for per-job/batch/schedule `webhook_url` deliveries; unset = one shared through Redis. */
  WEBHOOK_SECRET: z
    .string()
    .superRefine((v, ctx) => {
      const problem = secretProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  /** Delays before each retry in ms, comma-separated (default 11 retries over about 3 hours). */
  WEBHOOK_RETRY_SCHEDULE_MS: z.string().optional(),
  /** Hosts, IPs or CIDRs webhooks may reach although they are private or loopback (comma-separated). */
  WEBHOOK_ALLOW_PRIVATE_HOSTS: z.string().optional(),
  WEBHOOK_TIMEOUT_MS: envFields.positiveInt(10_000, 60_000),
  WEBHOOK_CONCURRENCY: envFields.positiveInt(20, 1_000),
  /** How often the deployment looks for finished jobs whose events the channel lost (seconds). */
  WEBHOOK_RECONCILE_SECONDS: envFields.positiveNumber(10),
};

export type WebhookEnv = z.output<z.ZodObject<typeof webhookEnvShape>>;

export interface WebhookSettings {
  secret: string | undefined;
  retryScheduleMs: number[];
  allowPrivateHosts: string[];
  timeoutMs: number;
  concurrency: number;
  reconcileIntervalMs: number;
}

/** Settings from parsed variables; throws ConfigError naming a bad schedule or allowlist entry. */
export function loadWebhookSettings(e: WebhookEnv): WebhookSettings {
  let retryScheduleMs = [...DEFAULT_RETRY_SCHEDULE_MS];
  if (e.WEBHOOK_RETRY_SCHEDULE_MS) {
    try {
      retryScheduleMs = parseRetrySchedule(e.WEBHOOK_RETRY_SCHEDULE_MS);
    } catch (err) {
      throw new ConfigError([{ variable: "WEBHOOK_RETRY_SCHEDULE_MS", message: (err as Error).message }]);
    }
  }
  const allowPrivateHosts = (e.WEBHOOK_ALLOW_PRIVATE_HOSTS ?? "").split(",").map((h) => h.trim()).filter(Boolean);
  try {
    createAddressPolicy(allowPrivateHosts);
  } catch (err) {
    throw new ConfigError([{ variable: "WEBHOOK_ALLOW_PRIVATE_HOSTS", message: (err as Error).message }]);
  }
  return {
    secret: e.WEBHOOK_SECRET,
    retryScheduleMs,
    allowPrivateHosts,
    timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    concurrency: e.WEBHOOK_CONCURRENCY,
    reconcileIntervalMs: Math.round(e.WEBHOOK_RECONCILE_SECONDS * 1_000),
  };
}
