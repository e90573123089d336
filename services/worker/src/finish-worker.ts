import { checkFfmpeg, FinishError } from "@acebatch/finishing";
import { createFinishQueue, enqueueFinish, finishPayloadSchema, QUEUE_NAMES, type FinishPayload, type JobStore } from "@acebatch/queue";
import type { ObjectStorage } from "@acebatch/storage";
import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { closeWorkerWithin } from "./close-worker.ts";
import { createFinishProcessor, toFinishFailure, type FinishOutcome } from "./finish-processor.ts";

export interface FinishWorkerOptions {
  /** The worker process's connection (BullMQ duplicates it for blocking reads). */
  redis: Redis;
  prefix: string;
  /** ffmpeg is CPU-bound: keep this near the number of cores. */
  concurrency: number;
  lockDurationMs: number;
  store: JobStore;
  storage: ObjectStorage;
  logger: Logger;
  /** The start-up toolchain check; default `checkFfmpeg` (tests replace it). */
  checkToolchain?: () => Promise<unknown>;
  waveformColumns?: number;
}

/**
 * The `finish` queue's worker: waveform peaks for every completed job and the job's finish block
 * when it has one. A failure marks only the finishing failed (`finish_status`, `finish_error`);
 * the job stays completed and its original untouched. Without ffmpeg the worker still runs (so
 * generation is unaffected) and fails finish runs with `ffmpeg_missing`.
 */
export function createFinishWorker(options: FinishWorkerOptions) {
  const { store, logger } = options;
  const shuttingDown = new AbortController();
  const queue = createFinishQueue(options.redis, options.prefix);

  let check: Promise<FinishError | null> | undefined;
  const toolchain = () =>
    (check ??= (options.checkToolchain ?? checkFfmpeg)().then(
      () => null,
      (err: unknown) => {
        const missing = err instanceof FinishError ? err : new FinishError("ffmpeg_missing", `the ffmpeg check failed: ${(err as Error).message}`);
        logger.error(
          { code: missing.code, message: missing.message },
          "audio finishing is unavailable: ffmpeg is missing or incomplete; finish runs will fail with ffmpeg_missing (generation keeps working)",
        );
        return missing;
      },
    ));

  const processFinish = createFinishProcessor({
    store,
    storage: options.storage,
    redis: options.redis,
    toolchain,
    logger,
    waveformColumns: options.waveformColumns,
  });

  /** Record a final failure of the finishing a run was made for (not one superseded since). */
  async function markFailed(payload: FinishPayload, error: ReturnType<typeof toFinishFailure>) {
    const rec = await store.get(payload.job_id);
    if (!rec || rec.finish === null || rec.finish_rev !== payload.rev) return;
    await store.transition(payload.job_id, { from: ["completed"], set: { finish_status: "failed", finish_error: error } });
  }

  async function handle(job: Job<FinishPayload>, token: string | undefined, signal: AbortSignal | undefined): Promise<FinishOutcome> {
    const parsed = finishPayloadSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`payload of BullMQ job ${job.id} does not match the catalog: ${parsed.error.message}`);
    const payload = parsed.data;
    const log = logger.child({ jobId: payload.job_id, rev: payload.rev, attempt: job.attemptsMade + 1 });
    const combined = AbortSignal.any([shuttingDown.signal, ...(signal ? [signal] : [])]);
    try {
      const outcome = await processFinish(payload, { signal: combined, logger: log });
      log.debug({ outcome }, "finish run ended");
      return outcome;
    } catch (err) {
      if (shuttingDown.signal.aborted && token) {
        // A run starts over from the stored original, so handing it back loses nothing.
        log.info("handing finish run back (shutting down)");
        await job.moveToDelayed(Date.now() + 100, token);
        throw new DelayedError();
      }
      const failure = toFinishFailure(err);
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (!failure.retryable || lastAttempt) {
        log.warn({ code: failure.code, lastAttempt, message: failure.message }, "finishing failed");
        await markFailed(payload, failure);
        throw new UnrecoverableError(failure.message);
      }
      log.warn({ code: failure.code, message: failure.message }, "finish attempt failed; will retry");
      throw err;
    }
  }

  const worker = new Worker<FinishPayload, FinishOutcome>(QUEUE_NAMES.finish, handle, {
    connection: options.redis,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: Math.max(1_000, Math.floor(options.lockDurationMs / 2)),
    // A run killed with its worker starts over from the stored original; a few stalls are fine.
    maxStalledCount: 5,
    autorun: false,
  });
  worker.on("error", (err) => logger.error({ err }, "finish worker error"));
  worker.on("failed", (job, err) => {
    // Failures BullMQ decides on its own (stalled too often) never pass through handle().
    if (job && job.finishedOn && !(err instanceof UnrecoverableError)) {
      const parsed = finishPayloadSchema.safeParse(job.data);
      if (parsed.success) {
        void markFailed(parsed.data, toFinishFailure(err)).catch((e) => logger.error({ err: e }, "could not mark finishing failed"));
      }
    }
  });

  return {
    worker,
    queue,
    /** Queue the first finish run of a job whose output was just stored (idempotent). */
    enqueue: (jobId: string) => enqueueFinish(queue, jobId, 0),
    /** Check ffmpeg once (logging clearly when it is missing), then take jobs. */
    async start() {
      const missing = await toolchain();
      if (!missing) logger.info({ concurrency: options.concurrency }, "audio finishing ready (ffmpeg found)");
      void worker.run().catch((err) => logger.error({ err }, "finish worker stopped with an error"));
    },
    /** Stop taking runs, hand in-flight ones back, and close within `deadlineMs`. */
    async close(deadlineMs: number) {
      shuttingDown.abort(new Error("worker shutting down"));
      await closeWorkerWithin(worker, deadlineMs, logger, "finish");
      await queue.close();
    },
  };
}

export type FinishWorker = ReturnType<typeof createFinishWorker>;
