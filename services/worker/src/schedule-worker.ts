import type { PriceTable } from "@acebatch/pricing";
import { QUEUE_NAMES, scheduleOccurrencePayloadSchema, type JobStore, type Queues, type ScheduleOccurrencePayload } from "@acebatch/queue";
import {
  createScheduleQueue,
  createScheduleStore,
  fireOccurrence,
  reconcileSchedulers,
  scheduleRepeatStrategy,
  syncScheduler,
  type FireResult,
} from "@acebatch/schedules";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

export interface ScheduleWorkerOptions {
  /** A worker-role connection (retries forever); shared by the store, the queue and the Worker. */
  redis: Redis;
  prefix: string;
  jobs: JobStore;
  queues: Pick<Queues, "generate">;
  prices: PriceTable;
  logger: Logger;
  concurrency?: number;
  /** How often this process checks that every schedule's BullMQ scheduler is in place (ms). */
  reconcileIntervalMs?: number;
  sourceSeconds?: (url: string) => Promise<number | null>;
  now?: () => number;
}

/** `repeat:<schedule id>:<ms>`: BullMQ's id of the job a scheduler made for the run due at <ms>. */
export function scheduledTimeOf(job: Pick<Job, "id" | "opts" | "timestamp" | "delay">): number {
  const match = /^repeat:.+:(\d+)$/.exec(job.id ?? "");
  if (match) return Number(match[1]);
  return job.opts.prevMillis ?? job.timestamp + (job.delay ?? 0);
}

/**
 * The schedule side of a worker process: takes the occurrences BullMQ's job schedulers fire and
 * turns each into at most one generation job (fireOccurrence decides once, whoever asks), and
 * keeps the schedulers in step with the schedule records.
 */
export function createScheduleWorker(options: ScheduleWorkerOptions) {
  const { redis, prefix, logger } = options;
  const now = options.now ?? Date.now;
  const schedules = createScheduleStore({ redis, prefix });
  const queue = createScheduleQueue(redis, prefix);
  const deps = { schedules, jobs: options.jobs, queues: options.queues, prices: options.prices, sourceSeconds: options.sourceSeconds };

  async function handle(job: Job<ScheduleOccurrencePayload>): Promise<FireResult["status"]> {
    const parsed = scheduleOccurrencePayloadSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`payload of BullMQ job ${job.id} does not match the catalog: ${parsed.error.message}`);
    const scheduleId = parsed.data.schedule_id;
    const scheduledMs = scheduledTimeOf(job);
    const log = logger.child({ scheduleId, scheduledAt: new Date(scheduledMs).toISOString() });
    const result = await fireOccurrence(deps, { scheduleId, scheduledMs, trigger: "schedule", nowMs: now() });
    if (result.status === "missing") {
      // Deleted while this run was already scheduled: make sure nothing fires again.
      await syncScheduler(queue, scheduleId, null, now());
      log.info("schedule no longer exists; removed its job scheduler");
      return result.status;
    }
    const { row } = result;
    if (row.outcome === "skipped_disabled") await syncScheduler(queue, scheduleId, await schedules.get(scheduleId), now());
    log.info(
      { outcome: row.outcome, jobId: row.job_id, run: row.run_number, caughtUp: row.caught_up, replay: result.replay, lateMs: row.late_ms },
      `schedule occurrence ${row.outcome}`,
    );
    return result.status;
  }

  const worker = new Worker<ScheduleOccurrencePayload>(QUEUE_NAMES.schedules, handle, {
    connection: redis,
    prefix,
    concurrency: options.concurrency ?? 10,
    // The Worker computes each scheduler's next run when a run starts: it must use our DST rules.
    settings: { repeatStrategy: scheduleRepeatStrategy },
    autorun: false,
  });
  worker.on("error", (err) => logger.error({ err }, "schedule worker error"));
  worker.on("failed", (job, err) => logger.warn({ err, bullJobId: job?.id, attempts: job?.attemptsMade }, "schedule occurrence attempt failed"));

  let timer: NodeJS.Timeout | undefined;
  let reconciling: Promise<number> | null = null;
  async function reconcile(): Promise<number> {
    if (reconciling) return reconciling;
    reconciling = reconcileSchedulers({
      queue,
      schedules,
      redis,
      now,
      onRepair: (scheduleId, reason) => logger.warn({ scheduleId, reason }, "repaired a schedule's job scheduler"),
    })
      .catch((err) => {
        logger.warn({ err }, "schedule reconciliation failed; will try again");
        return 0;
      })
      .finally(() => {
        reconciling = null;
      });
    return reconciling;
  }
  // After a reconnect, check at once that no scheduler was lost while Redis was away.
  const onReady = () => void reconcile();

  return {
    worker,
    queue,
    reconcile,
    start() {
      void worker.run().catch((err) => logger.error({ err }, "schedule worker stopped with an error"));
      void reconcile();
      timer = setInterval(() => void reconcile(), options.reconcileIntervalMs ?? 30_000);
      timer.unref();
      redis.on("ready", onReady);
    },
    /** Stop taking occurrences and close within `deadlineMs` (an occurrence is short and idempotent). */
    async close(deadlineMs: number) {
      clearInterval(timer);
      redis.off("ready", onReady);
      let deadline: NodeJS.Timeout | undefined;
      const expired = new Promise<"timeout">((resolve) => {
        deadline = setTimeout(() => resolve("timeout"), deadlineMs);
      });
      const closed = await Promise.race([worker.close().then(() => "closed" as const), expired]);
      clearTimeout(deadline);
      if (closed === "timeout") await worker.close(true);
      await reconciling?.catch(() => undefined);
      await queue.close();
    },
  };
}
