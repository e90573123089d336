import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import { generatePayloadSchema, QUEUE_NAMES, type GeneratePayload, type JobStore } from "@acebatch/queue";
import type { Logger } from "pino";
import { closeWorkerWithin } from "./close-worker.ts";
import type { createGenerateProcessor } from "./generate-processor.ts";
import { HandBack } from "./flow/hand-back.ts";
import { toJobError } from "./job-failure.ts";
import type { JobMoney } from "./money/job-money.ts";

export interface GenerateWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  store: JobStore;
  money: JobMoney;
  process: ReturnType<typeof createGenerateProcessor>;
  logger: Logger;
  now?: () => Date;
}

/** Non-final job statuses a failure may move from. */
const ACTIVE = ["queued", "waiting_budget", "in_progress"] as const;

/**
 * The BullMQ side of generation: validates payloads when dequeued and turns the processor's
 * failures into BullMQ control flow (retry with backoff, fail at once, hand back on shutdown).
 */
export function createGenerateWorker(options: GenerateWorkerOptions) {
  const { store, logger } = options;
  const now = options.now ?? (() => new Date());
  const shuttingDown = new AbortController();

  async function markFailed(jobId: string, error: ReturnType<typeof toJobError>) {
    const outcome = await store.transition(jobId, { from: ACTIVE, to: "failed", set: { error, finished_at: now().toISOString() } });
    const rec = outcome.ok ? await store.get(jobId) : null;
    // Money: a finished render stays charged; an unspent reservation goes back to the budget.
    if (rec) await options.money.onFailure(rec);
  }

  async function handle(job: Job<GeneratePayload>, token: string | undefined, signal: AbortSignal | undefined) {
    const parsed = generatePayloadSchema.safeParse(job.data);
    if (!parsed.success) {
      const jobId = typeof job.data?.job_id === "string" ? job.data.job_id : job.id;
      const message = `payload of BullMQ job ${job.id} does not match the catalog: ${parsed.error.message}`;
      if (jobId) await markFailed(jobId, { code: "invalid_payload", exit_class: null, retryable: false, message });
      throw new UnrecoverableError(message);
    }
    const payload = parsed.data;
    const log = logger.child({ jobId: payload.job_id, attempt: job.attemptsMade + 1 });
    const combined = AbortSignal.any([shuttingDown.signal, ...(signal ? [signal] : [])]);
    try {
      return await options.process(payload, { attempt: job.attemptsMade + 1, signal: combined, logger: log });
    } catch (err) {
      if ((shuttingDown.signal.aborted || err instanceof HandBack) && token) {
        // Back to the queue without using an attempt; the request_id is on the record, so the
        // next worker resumes polling the same provider request.
        const delayMs = err instanceof HandBack ? err.delayMs : 100;
        log.info({ reason: err instanceof Error ? err.message : String(err), delayMs }, "handing job back");
        await job.moveToDelayed(Date.now() + delayMs, token);
        throw new DelayedError();
      }
      const error = toJobError(err);
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (!error.retryable || lastAttempt) {
        log.warn({ code: error.code, exitClass: error.exit_class, lastAttempt }, "job failed");
        await markFailed(payload.job_id, error);
        throw new UnrecoverableError(error.message);
      }
      log.warn({ code: error.code, exitClass: error.exit_class }, "attempt failed; will retry");
      await store.update(payload.job_id, { error });
      throw err;
    }
  }

  const worker = new Worker<GeneratePayload>(QUEUE_NAMES.generate, handle, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: Math.max(1_000, Math.floor(options.lockDurationMs / 2)),
    // Re-runs are safe (the request id is on the record), so a crash-looping host must not fail jobs.
    maxStalledCount: 50,
    autorun: false,
  });
  worker.on("error", (err) => logger.error({ err }, "worker error"));
  worker.on("failed", (job, err) => {
    // Failures BullMQ decides on its own (stalled too often) never pass through handle().
    if (job && job.finishedOn && !(err instanceof UnrecoverableError) && job.attemptsMade >= (job.opts.attempts ?? 1)) {
      void markFailed(job.data.job_id, toJobError(err)).catch((e) => logger.error({ err: e }, "could not mark job failed"));
    }
  });

  return {
    worker,
    start() {
      void worker.run().catch((err) => logger.error({ err }, "worker stopped with an error"));
    },
    /** Stop taking jobs, hand in-flight ones back, and close within `deadlineMs`. */
    async close(deadlineMs: number) {
      shuttingDown.abort(new Error("worker shutting down"));
      await closeWorkerWithin(worker, deadlineMs, logger, "generate");
    },
  };
}
