import { z } from "zod";
import { MODEL_IDS } from "@acebatch/contracts";
import type { DefaultJobOptions } from "bullmq";

/**
 * The job catalog: every BullMQ job name with its queue, payload schema and default options.
 * Payload schemas change only additively, so jobs queued by the previous deploy still parse.
 */
export const QUEUE_NAMES = { generate: "generate", schedules: "schedules", finish: "finish", webhooks: "webhooks" } as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export const generatePayloadSchema = z.object({
  job_id: z.string().min(1),
  model: z.enum(MODEL_IDS),
  // The provider input is re-validated against the model schema by the worker; here it only has to be an object.
  input: z.record(z.string(), z.unknown()),
});
export type GeneratePayload = z.infer<typeof generatePayloadSchema>;

/**
 * One occurrence of a schedule, created by the BullMQ job scheduler `schedule_id` (its job id is
 * `repeat:<schedule_id>:<scheduled ms>`). Everything else is read from the schedule record.
 */
export const scheduleOccurrencePayloadSchema = z.object({
  schedule_id: z.string().min(1),
});
export type ScheduleOccurrencePayload = z.infer<typeof scheduleOccurrencePayloadSchema>;

/**
 * Finish a completed job's stored output: waveform peaks of the original (once) and, when the
 * record has a `finish` block, the finished renditions. `rev` is the record's `finish_rev` the run
 * was requested for: a run for an older revision is discarded. Everything else is read from the record.
 */
export const finishPayloadSchema = z.object({
  job_id: z.string().min(1),
  rev: z.int().min(0).default(0),
});
export type FinishPayload = z.infer<typeof finishPayloadSchema>;

/** Deterministic BullMQ id of a finish run: adding the same run twice is a no-op. */
export function finishJobId(jobId: string, rev: number): string {
  return rev === 0 ? `finish-${jobId}` : `finish-${jobId}-${rev}`;
}

/**
 * One webhook delivery attempt series. Everything (URL, body, endpoint) is on the delivery record
 * `delivery_id` (@acebatch/webhooks), which is also the `webhook-id` the receiver sees.
 */
export const webhookDeliveryPayloadSchema = z.object({
  delivery_id: z.string().min(1),
});
export type WebhookDeliveryPayload = z.infer<typeof webhookDeliveryPayloadSchema>;

/**
 * BullMQ's per-queue event stream (`<queue>:events`). Nothing here reads it (job events travel on
 * our own channel, and job records are the history), so it keeps a short tail for debugging instead
 * of BullMQ's default 10,000 entries (about 1 MB per queue). Every Queue instance of a queue must
 * pass the same value: each writes it into the queue's meta hash when it starts.
 */
export const QUEUE_STREAMS = { events: { maxLen: 1_000 } } as const;

export const JOB_CATALOG = {
  generate: { queue: QUEUE_NAMES.generate, payload: generatePayloadSchema },
  "schedule-occurrence": { queue: QUEUE_NAMES.schedules, payload: scheduleOccurrencePayloadSchema },
  finish: { queue: QUEUE_NAMES.finish, payload: finishPayloadSchema },
  "webhook-delivery": { queue: QUEUE_NAMES.webhooks, payload: webhookDeliveryPayloadSchema },
} as const;
export type JobName = keyof typeof JOB_CATALOG;
export type PayloadOf<N extends JobName> = z.infer<(typeof JOB_CATALOG)[N]["payload"]>;

/** A handler for every job name: a missing one does not compile. */
export type JobHandlers<Ctx> = { [N in JobName]: (payload: PayloadOf<N>, ctx: Ctx) => Promise<unknown> };

/**
 * Options of schedule occurrence jobs: retried (the occurrence handler is idempotent), and kept a
 * day after completion for inspection; the schedule's own history is the durable record.
 */
export function scheduleOccurrenceJobOptions(): DefaultJobOptions {
  return {
    attempts: 10,
    backoff: { type: "exponential", delay: 1_000 },
    removeOnComplete: { age: 86_400, count: 1_000 },
    removeOnFail: { age: 7 * 24 * 3_600, count: 1_000 },
  };
}

/**
 * Retention for finished BullMQ jobs: our own job records are the durable history, so BullMQ keeps
 * only the last 100 completed (for Bull Board), and failed ones a week for inspection.
 */
export function generateJobOptions(maxAttempts: number): DefaultJobOptions {
  return {
    attempts: maxAttempts,
    backoff: { type: "exponential", delay: 2_000, jitter: 0.5 },
    removeOnComplete: { age: 3_600, count: 100 },
    removeOnFail: { age: 7 * 24 * 3_600, count: 10_000 },
  };
}

/**
 * Finish runs: ffmpeg failures may be transient, bad input is not (the processor decides). The
 * record holds the outcome, so BullMQ keeps finished runs only briefly.
 */
export function finishJobOptions(): DefaultJobOptions {
  return {
    attempts: 3,
    backoff: { type: "exponential", delay: 5_000 },
    removeOnComplete: { age: 3_600, count: 100 },
    removeOnFail: { age: 7 * 24 * 3_600, count: 10_000 },
  };
}
