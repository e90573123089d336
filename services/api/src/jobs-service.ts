import { isJobReference, isTerminalStatus, newId, type CreateJobRequest } from "@acebatch/contracts";
import type { JobRecord, JobStore, Queues } from "@acebatch/queue";
import type { Redis } from "ioredis";
import { OutputTooLongError } from "@acebatch/pricing";
import { ApiError, invalidInput, notFound } from "./errors.ts";
import { claimIdempotencyKey, fingerprint, idempotencyCaller } from "./idempotency.ts";

export interface JobsServiceDeps {
  redis: Redis;
  prefix: string;
  store: JobStore;
  queues: Queues;
  /** Estimated cost of a job in µ$ (null when only the worker can price it). */
  estimate: (model: CreateJobRequest["model"], input: Record<string, unknown>) => Promise<number | null>;
  now?: () => Date;
}

/** Job submission, lookup and cancellation: the domain behind the /v1/jobs routes. */
export function createJobsService({ redis, prefix, store, queues, estimate, now = () => new Date() }: JobsServiceDeps) {
  /** A source job referenced by `input.audio` must exist and have finished with audio. */
  async function checkSourceJob(audio: string): Promise<void> {
    const source = await store.get(audio);
    if (!source) throw invalidInput([{ path: "input.audio", message: `job ${audio} does not exist` }]);
    if (source.status !== "completed" || !source.output) {
      throw invalidInput([
        { path: "input.audio", message: `job ${audio} has no audio yet (status ${source.status}); wait until it is completed` },
      ]);
    }
  }

  async function enqueue(rec: Pick<JobRecord, "id" | "model" | "input">): Promise<void> {
    await queues.generate.add("generate", { job_id: rec.id, model: rec.model, input: rec.input }, { jobId: rec.id });
  }

  /**
   * Accept a job. With an Idempotency-Key, a repeat of the same body converges on the first job
   * (and re-enqueues it if the first attempt stopped between record and queue).
   */
  async function create(request: CreateJobRequest, idempotencyKey?: string, keyId: string | null = null): Promise<{ job: JobRecord; replay: boolean }> {
    const audio = (request.input as { audio?: string }).audio;
    if (audio && isJobReference(audio)) await checkSourceJob(audio);

    // Priced before anything is claimed or written: an input the provider would refuse is a 400.
    const estimatedCost = await estimate(request.model, request.input as Record<string, unknown>).catch((err: unknown) => {
      if (err instanceof OutputTooLongError) throw invalidInput([{ path: `input.${err.field}`, message: err.message }]);
      throw err;
    });
    let id = newId("job");
    let replay = false;
    if (idempotencyKey) {
      const claim = await claimIdempotencyKey(redis, prefix, "jobs", idempotencyCaller(keyId), idempotencyKey, fingerprint(request), id);
      id = claim.id;
      replay = claim.replay;
    }
    const creating = store.create({
      id,
      model: request.model,
      input: request.input as Record<string, unknown>,
      metadata: request.metadata ?? {},
      webhook_url: request.webhook_url ?? null,
      finish: request.finish ?? null,
      key_id: keyId,
      estimated_cost_micro_usd: estimatedCost,
      created_at: now().toISOString(),
    });
    if (!replay) {
      // A fresh id cannot exist yet: send the enqueue right behind the record on the same
      // connection. Redis runs them in order, so a worker never sees a job without its record,
      // and the submit costs one round trip instead of two.
      const [{ record }] = await Promise.all([creating, enqueue({ id, model: request.model, input: request.input as Record<string, unknown> })]);
      return { job: record, replay: false };
    }
    const { created, record } = await creating;
    // Adding a job id BullMQ already holds is a no-op, so this converges on retries.
    if (created || record.status === "queued") await enqueue(record);
    return { job: record, replay: replay || !created };
  }

  async function get(id: string): Promise<JobRecord> {
    const rec = await store.get(id);
    if (!rec) throw notFound("job", id);
    return rec;
  }

  /**
   * Cancel a job: queued or waiting jobs stop at once; a job at the provider is flagged and the
   * worker asks the provider to cancel it (paid output that arrives anyway is kept).
   */
  async function cancel(id: string): Promise<JobRecord> {
    const rec = await get(id);
    if (rec.status === "cancelled") return rec;
    if (isTerminalStatus(rec.status)) {
      throw new ApiError(409, "job_finished", `job ${id} already ${rec.status}; there is nothing to cancel`);
    }
    const stopped = await store.transition(id, {
      from: ["queued", "waiting_budget"],
      to: "cancelled",
      set: {
        finished_at: now().toISOString(),
        error: { code: "cancelled", exit_class: null, retryable: false, message: "cancelled by request before it reached the provider" },
      },
    });
    if (stopped.ok) {
      // The worker also checks the record before it submits, so a job it already holds is never sent.
      await queues.generate.remove(id).catch(() => undefined);
      return get(id);
    }
    await store.transition(id, { from: ["in_progress"], set: { cancel_requested: true } });
    return get(id);
  }

  return { create, get, cancel, list: store.list };
}

export type JobsService = ReturnType<typeof createJobsService>;
