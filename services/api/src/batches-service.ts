import { DEFAULT_BATCH_LIMITS, type BatchLimits } from "@acebatch/batch-input";
import { isTerminalStatus, newId } from "@acebatch/contracts";
import { batchJobRef, type BatchRecord } from "@acebatch/queue";
import { COMMIT_CHUNK, commitJobs, type StagedJob } from "./batch-commit.ts";
import { createBatchPricer } from "./batch-pricing.ts";
import { createBatchSubmit, type BatchSubmitDeps } from "./batch-submit.ts";
import { activeJobs, deriveStatus, fullCounts, type JobCounts } from "./batch-view.ts";
import { ApiError, notFound } from "./errors.ts";

export interface BatchesServiceDeps extends BatchSubmitDeps {
  limits?: Partial<BatchLimits>;
}

const CANCEL_PAGE = 500;
const CANCELLED_ERROR = { code: "cancelled", exit_class: null, retryable: false, message: "cancelled with its batch before it reached the provider" };

/** Batch uploads, quotes, live state, cancel and retry: the domain behind /v1/batches. */
export function createBatchesService(deps: BatchesServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const limits: BatchLimits = { ...DEFAULT_BATCH_LIMITS, ...deps.limits };
  const { store, batches } = deps;
  const submit = createBatchSubmit(deps, limits);

  async function getRecord(id: string): Promise<BatchRecord> {
    const rec = await batches.get(id);
    if (!rec) throw notFound("batch", id);
    return rec;
  }

  /**
   * The batch with its job counts and money, in O(1): counters kept by the job store, spend and
   * reservations from the ledger's batch scope. A batch seen finished for the first time gets its
   * final status and finish time written once.
   */
  async function get(id: string) {
    const { record, counts: raw } = await batches.getWithCounts(id);
    if (!record) throw notFound("batch", id);
    const counts = fullCounts(raw);
    let rec = record;
    if (!rec.processing_started_at && rec.status !== "enqueueing" && counts.queued < rec.accepted) {
      rec = { ...rec, processing_started_at: await firstStart(rec) };
    }
    const status = deriveStatus(rec, counts);
    if (status !== rec.status && (status === "completed" || status === "cancelled")) {
      const finishedAt = await lastFinish(rec);
      await batches.transition(id, { from: ["in_progress", "cancelling"], to: status, set: { finished_at: finishedAt } });
      rec = { ...rec, status, finished_at: finishedAt };
    }
    const budget = await deps.ledger.getBudget({ kind: "batch", id });
    return { record: rec, counts, money: { spentMicroUsd: budget.spentMicroUsd, reservedMicroUsd: budget.reservedMicroUsd } };
  }

  /** When the batch's first row started (its jobs run in row order), kept once known. */
  async function firstStart(rec: BatchRecord): Promise<string | null> {
    const [firstId] = await batches.jobIds(rec.id, 1);
    const first = firstId ? await store.get(firstId) : null;
    const at = first?.started_at ?? first?.finished_at;
    if (!at) return null;
    return batches.claimField(rec.id, "processing_started_at", at);
  }

  /** The latest finish among the batch's last rows (which finish last in a FIFO queue), bounded work. */
  async function lastFinish(rec: BatchRecord): Promise<string> {
    const tail = await store.getMany(await batches.lastJobIds(rec.id, 50));
    const times = tail.map((r) => r?.finished_at).filter((t): t is string => !!t);
    const latest = times.sort().at(-1) ?? now().toISOString();
    return latest > now().toISOString() ? now().toISOString() : latest;
  }

  async function list(limit: number, cursor?: string) {
    return batches.list(limit, cursor);
  }

  /**
   * Cancel a batch: every queued or budget-waiting job is cancelled at once (record first, then its
   * BullMQ job removed; the worker also skips a job whose record is final), running jobs are asked
   * to cancel at the provider, and a batch still being enqueued stops adding jobs.
   */
  async function cancel(id: string) {
    const { record, counts } = await get(id);
    const status = deriveStatus(record, counts);
    if (status === "cancelled") return id;
    if (status === "completed") throw new ApiError(409, "batch_finished", `batch ${id} already completed; there is nothing to cancel`);
    await batches.transition(id, { from: ["enqueueing", "in_progress", "cancelling"], to: "cancelling", set: { cancel_requested_at: record.cancel_requested_at ?? now().toISOString() } });
    let after: string | null = null;
    for (;;) {
      const ids = await batches.jobIds(id, CANCEL_PAGE, after);
      if (ids.length === 0) break;
      after = ids.at(-1)!;
      const pipeline = deps.redis.pipeline();
      for (const jobId of ids) pipeline.hget(store.keys.job(jobId), "status");
      const statuses = ((await pipeline.exec()) ?? []).map(([err, s]) => {
        if (err) throw err;
        return s as string | null;
      });
      await Promise.all(
        ids.map(async (jobId, i) => {
          const s = statuses[i];
          if (!s || isTerminalStatus(s as never)) return;
          const stopped = await store.transition(jobId, {
            from: ["queued", "waiting_budget"],
            to: "cancelled",
            set: { finished_at: now().toISOString(), error: CANCELLED_ERROR },
          });
          if (stopped.ok) await deps.queues.generate.remove(jobId).catch(() => undefined);
          else await store.transition(jobId, { from: ["in_progress"], set: { cancel_requested: true } });
        }),
      );
    }
    return id;
  }

  /**
   * A new batch of exactly the failed and cancelled rows of a finished batch, with their row
   * numbers, inputs and metadata. Retrying the same batch again returns that retry batch.
   */
  async function retry(id: string): Promise<{ batch: BatchRecord; replay: boolean }> {
    const { record: original, counts } = await get(id);
    const status = deriveStatus(original, counts);
    if (status === "enqueueing" || activeJobs(counts) > 0) {
      throw new ApiError(409, "batch_running", `batch ${id} still has ${activeJobs(counts)} unfinished jobs; wait for it or cancel it, then retry`);
    }
    if (!original.retried_by && counts.failed + counts.cancelled === 0) {
      throw new ApiError(409, "nothing_to_retry", `batch ${id} has no failed or cancelled rows`);
    }
    const retryId = (await batches.claimField(id, "retried_by", newId("batch")))!;
    const existing = await batches.get(retryId);
    if (existing && existing.status !== "enqueueing") return { batch: existing, replay: true };
    const planned = counts.failed + counts.cancelled;
    await batches.create({
      ...original,
      id: retryId,
      name: original.name ? `${original.name} (retry)` : null,
      status: "enqueueing",
      source: "retry",
      total: planned,
      accepted: planned,
      rejected: 0,
      duplicates: 0,
      estimated_cost_micro_usd: 0,
      estimated_seconds: 0,
      retry_of: id,
      retried_by: null,
      created_at: now().toISOString(),
      enqueued_at: null,
      processing_started_at: null,
      cancel_requested_at: null,
      finished_at: null,
    });
    if (original.max_cost_micro_usd !== null && original.max_cost_micro_usd !== undefined) {
      // A retry spends what the original's cap left, not the cap again.
      const spent = (await deps.ledger.getBudget({ kind: "batch", id })).spentMicroUsd;
      const left = Math.max(0, original.max_cost_micro_usd - spent);
      await deps.ledger.setBudget({ kind: "batch", id: retryId }, { limitMicroUsd: left, period: "none", timezone: "UTC" });
    }
    let cost = 0;
    const price = createBatchPricer({ store, prices: deps.prices });
    async function* chunks(): AsyncGenerator<StagedJob[]> {
      let after: string | null = null;
      for (;;) {
        const ids = await batches.jobIds(id, COMMIT_CHUNK, after);
        if (ids.length === 0) return;
        after = ids.at(-1)!;
        const chunk: StagedJob[] = [];
        for (const rec of await store.getMany(ids)) {
          if (!rec || (rec.status !== "failed" && rec.status !== "cancelled")) continue;
          const ref = batchJobRef(rec.id) ?? { row: chunk.length + 1, variation: 1 };
          let costMicroUsd = rec.estimated_cost_micro_usd;
          if (costMicroUsd === null) {
            const p = await price(rec.model, rec.input);
            costMicroUsd = p.ok ? p.costMicroUsd : null;
          }
          cost += costMicroUsd ?? 0;
          chunk.push({ row: ref.row, variation: ref.variation, model: rec.model, input: rec.input, metadata: rec.metadata, costMicroUsd });
        }
        if (chunk.length > 0) yield chunk;
      }
    }
    const { jobs, cancelled } = await commitJobs({ batches, queues: deps.queues, now }, { id: retryId, keyId: original.key_id }, chunks());
    await batches.transition(retryId, {
      from: cancelled ? "*" : ["enqueueing"],
      to: cancelled ? undefined : "in_progress",
      set: { enqueued_at: now().toISOString(), total: jobs, accepted: jobs, estimated_cost_micro_usd: cost },
    });
    return { batch: (await batches.get(retryId))!, replay: false };
  }

  async function report(id: string) {
    await getRecord(id);
    return (await batches.getReport<{ errors: unknown[]; errors_truncated: boolean; duplicate_rows: unknown[] }>(id)) ?? { errors: [], errors_truncated: false, duplicate_rows: [] };
  }

  return { submit, get, getRecord, list, cancel, retry, report, limits };
}

export type BatchesService = ReturnType<typeof createBatchesService>;
export type { BatchUpload, SubmitOptions, SubmitOutcome } from "./batch-submit.ts";
export type { JobCounts };
