import { createHash } from "node:crypto";
import { isTerminalStatus, type JobStatus } from "@acebatch/contracts";
import { createBatchStore, createJobStore } from "@acebatch/queue";
import type { Redis } from "ioredis";
import { batchEventData, batchIsFinished, fullCounts, jobEventData } from "./event-data.ts";
import type { DeliveryStore } from "./delivery-store.ts";
import type { WebhookQueue } from "./delivery-queue.ts";
import type { EndpointStore } from "./endpoint-store.ts";
import { eventId, type EventType, type WebhookEvent } from "./events.ts";
import { destinationsFor, fanOut } from "./fan-out.ts";
import { webhookKeys } from "./keys.ts";
import { claimJobStatus, markJobFanned } from "./job-marks.ts";
import { unfannedFinalJobs } from "./reconcile.ts";

export interface EventRouterDeps {
  /** A worker-role connection (commands retry while Redis is away). */
  redis: Redis;
  prefix: string;
  endpoints: EndpointStore;
  deliveries: DeliveryStore;
  queue: WebhookQueue;
  /** Base of the URLs in event bodies (`output.url`, `results_url`). */
  publicBaseUrl: string;
  /** Money spent by a batch (µ$), for batch.completed; null when unknown. */
  batchSpentMicroUsd?: (batchId: string) => Promise<number | null>;
  now?: () => Date;
}

/** A message of the `${prefix}:events` channel. */
export interface ChannelMessage {
  type: string;
  [field: string]: unknown;
}

const JOB_EVENT: Partial<Record<JobStatus, EventType>> = { completed: "job.completed", failed: "job.failed", cancelled: "job.cancelled" };
const ACCOUNT_EVENTS = new Set<string>(["budget.threshold", "provider.auth_failed"]);

/**
 * From what happened to webhook events and their deliveries: a job's final status, a batch whose
 * jobs have all finished, and the account-wide events published on the channel. Every step is
 * idempotent (deterministic event and delivery ids), so a message seen by several dispatchers, or
 * found again by a reconciliation pass, is delivered once per destination.
 */
export function createEventRouter(deps: EventRouterDeps) {
  const { redis, prefix } = deps;
  const now = deps.now ?? (() => new Date());
  const jobs = createJobStore({ redis, prefix });
  const batches = createBatchStore({ redis, prefix });
  const keys = webhookKeys(prefix);

  async function emit(type: EventType, key: string, createdAt: string, data: Record<string, unknown>, subjectId: string | null, ownUrl: string | null) {
    const event: WebhookEvent = { type, id: eventId(key), created_at: createdAt, data };
    return fanOut(deps, event, subjectId, await destinationsFor(deps.endpoints, type, ownUrl), now());
  }

  /** Fan out batch.completed once every job of the batch has finished; true when it has been (now or before). */
  async function checkBatch(batchId: string): Promise<boolean> {
    if ((await redis.zscore(keys.fannedBatches(), batchId)) !== null) return true;
    const { record, counts: raw } = await batches.getWithCounts(batchId);
    if (!record) {
      await redis.zrem(keys.watchBatches(), batchId);
      return false;
    }
    const counts = fullCounts(raw);
    if (!batchIsFinished(record, counts)) {
      // Jobs that all finished while the batch was still being enqueued send no further event.
      if (record.status === "enqueueing") await redis.zadd(keys.watchBatches(), now().getTime(), batchId);
      return false;
    }
    const spent = deps.batchSpentMicroUsd ? await deps.batchSpentMicroUsd(batchId) : null;
    const finishedAt = record.finished_at ?? now().toISOString();
    // POST /v1/batches?webhook_url= stores the batch's own destination on its record.
    const ownUrl = record.webhook_url ?? null;
    await emit("batch.completed", `${batchId}:batch.completed`, finishedAt, batchEventData(record, counts, spent, deps.publicBaseUrl, finishedAt), batchId, ownUrl);
    await redis.multi().zadd(keys.fannedBatches(), now().getTime(), batchId).zrem(keys.watchBatches(), batchId).exec();
    return true;
  }

  /**
   * Fan out a finished job's event (job.completed / failed / cancelled) and, for a batch job, check
   * its batch; only then mark the job done, so a crash in between is found again by reconcile().
   */
  async function jobFinished(jobId: string): Promise<void> {
    const rec = await jobs.get(jobId);
    if (!rec) return;
    const type = JOB_EVENT[rec.status];
    if (!type || !isTerminalStatus(rec.status)) return;
    await emit(type, `${rec.id}:${type}`, rec.finished_at ?? now().toISOString(), jobEventData(rec, deps.publicBaseUrl), rec.id, rec.webhook_url);
    if (rec.batch_id) await checkBatch(rec.batch_id);
    await markJobFanned(redis, prefix, rec.id, now().getTime());
  }

  /** Fan out an account-wide event from the channel (budget.threshold, provider.auth_failed). */
  async function accountEvent(message: ChannelMessage, raw: string): Promise<void> {
    const { type, at, ...data } = message;
    const createdAt = typeof at === "string" ? at : now().toISOString();
    // Every subscriber receives the same bytes, so a digest of them names the event the same everywhere.
    const key = `${type}:${createHash("sha256").update(raw).digest("hex")}`;
    await emit(type as EventType, key, createdAt, data, null, null);
  }

  /**
   * Handle one channel message. Several dispatchers receive each one; a claim on the job's record
   * lets one of them do the work (if it dies half-way, reconcile() finds the job again).
   */
  async function handleMessage(raw: string): Promise<void> {
    let message: ChannelMessage;
    try {
      message = JSON.parse(raw) as ChannelMessage;
    } catch {
      return;
    }
    if (message.type === "job.status") {
      const to = message.to as JobStatus;
      if (typeof message.job_id !== "string" || !JOB_EVENT[to]) return;
      if (!(await claimJobStatus(redis, prefix, message.job_id, to))) return;
      await jobFinished(message.job_id);
    } else if (ACCOUNT_EVENTS.has(message.type)) {
      await accountEvent(message, raw);
    }
  }

  /**
   * One reconciliation pass: fan out every finished job the channel's messages did not reach (no
   * dispatcher was subscribed, or one died half-way), and batches that finished while enqueueing.
   * Returns how many jobs and batches it handled.
   */
  async function reconcile(options: { lookbackMs?: number; max?: number } = {}): Promise<{ jobs: number; batches: number }> {
    const ids = await unfannedFinalJobs(redis, prefix, { nowMs: now().getTime(), ...options });
    for (const id of ids) await jobFinished(id);
    let batchCount = 0;
    for (const batchId of await redis.zrange(keys.watchBatches(), "0", "999")) {
      if (await checkBatch(batchId)) batchCount += 1;
    }
    return { jobs: ids.length, batches: batchCount };
  }

  return { handleMessage, jobFinished, checkBatch, reconcile };
}

export type EventRouter = ReturnType<typeof createEventRouter>;
