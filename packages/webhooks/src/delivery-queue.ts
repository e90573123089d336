import { QUEUE_NAMES, QUEUE_STREAMS, type WebhookDeliveryPayload } from "@acebatch/queue";
import { Queue, type BackoffStrategy, type ConnectionOptions, type DefaultJobOptions } from "bullmq";

export const DELIVERY_JOB_NAME = "webhook-delivery";
/** The custom backoff type; the delivery Worker maps it to the retry schedule. */
export const DELIVERY_BACKOFF_TYPE = "webhook-schedule";

/**
 * Delays before each retry (ms): 11 retries over about 3 h 8 min (5 s, 30 s, 2 m, 5 m, 10 m, 20 m,
 * then 30 m five times), more than the "10 retries over 2 hours" receivers know from fal and
 * Svix-style senders. After the last retry fails the delivery is dead (and can be replayed).
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  5_000, 30_000, 120_000, 300_000, 600_000, 1_200_000, 1_800_000, 1_800_000, 1_800_000, 1_800_000, 1_800_000,
];

/** Parse `WEBHOOK_RETRY_SCHEDULE_MS` (`"5000,30000,…"`); throws a RangeError saying what is wrong. */
export function parseRetrySchedule(text: string): number[] {
  const parts = text.split(",").map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) throw new RangeError("must list at least one delay in ms, e.g. 5000,30000,120000");
  if (parts.length > 50) throw new RangeError("may list at most 50 delays");
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 86_400_000) throw new RangeError(`"${p}" is not a delay in ms (1–86400000)`);
    return n;
  });
}

/** BullMQ's custom backoff for deliveries: the n-th retry waits `schedule[n-1]` ms. */
export function retryBackoff(schedule: readonly number[]): BackoffStrategy {
  return (attemptsMade) => schedule[Math.min(Math.max(attemptsMade, 1), schedule.length) - 1]!;
}

/**
 * BullMQ never ends a delivery on its own: the delivery worker decides when the schedule is used
 * up (so the API can enqueue a replay without knowing the schedule), so `attempts` only has to be
 * larger than any schedule.
 */
const BULLMQ_ATTEMPTS = 1_000;

export function deliveryJobOptions(): DefaultJobOptions {
  return {
    attempts: BULLMQ_ATTEMPTS,
    backoff: { type: DELIVERY_BACKOFF_TYPE },
    // The delivery record is the durable history; a retained BullMQ job also keeps a re-add of the same id a no-op.
    removeOnComplete: { age: 86_400, count: 10_000 },
    removeOnFail: { age: 7 * 86_400, count: 10_000 },
  };
}

export type WebhookQueue = Queue<WebhookDeliveryPayload, unknown, string>;

/** The producer side of the `webhooks` queue. */
export function createWebhookQueue(connection: ConnectionOptions, prefix: string): WebhookQueue {
  return new Queue<WebhookDeliveryPayload, unknown, string>(QUEUE_NAMES.webhooks, { connection, prefix, streams: QUEUE_STREAMS, defaultJobOptions: deliveryJobOptions() });
}

/** The BullMQ job id of a delivery's first series (its id) or of its n-th replay. */
export function deliveryJobId(deliveryId: string, replay: number): string {
  return replay > 0 ? `${deliveryId}-r${replay}` : deliveryId;
}

/** Enqueue a delivery (a no-op while a BullMQ job with the same id exists). */
export async function enqueueDelivery(queue: WebhookQueue, deliveryId: string, replay = 0): Promise<void> {
  await queue.add(DELIVERY_JOB_NAME, { delivery_id: deliveryId }, { ...deliveryJobOptions(), jobId: deliveryJobId(deliveryId, replay) });
}
