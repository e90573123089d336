import { JOB_STATUSES, microUsdToUsd, type JobStatus } from "@acebatch/contracts";
import type { BatchRecord, BatchStatus } from "@acebatch/queue";

export type JobCounts = Record<JobStatus, number>;

/** Every job status with a count (missing counters are 0). */
export function fullCounts(counts: Partial<Record<JobStatus, number>>): JobCounts {
  return Object.fromEntries(JOB_STATUSES.map((s) => [s, Math.max(0, counts[s] ?? 0)])) as JobCounts;
}

export const activeJobs = (c: JobCounts) => c.queued + c.waiting_budget + c.in_progress;
export const finishedJobs = (c: JobCounts) => c.completed + c.failed + c.cancelled;

/**
 * A batch's status from its record and its job counters: once every job of an enqueued batch has
 * finished it is `completed` (or `cancelled` if a cancel was asked for), whatever the record says.
 */
export function deriveStatus(rec: BatchRecord, counts: JobCounts): BatchStatus {
  if (rec.status === "enqueueing" || rec.status === "completed" || rec.status === "cancelled") return rec.status;
  if (activeJobs(counts) === 0 && finishedJobs(counts) >= rec.accepted) return rec.cancel_requested_at ? "cancelled" : "completed";
  return rec.status;
}

/** Seconds until every job has finished, from this batch's own throughput so far; null when unknown. */
export function etaSeconds(rec: BatchRecord, counts: JobCounts, status: BatchStatus, now: Date): number | null {
  if (status !== "in_progress" || !rec.processing_started_at) return null;
  const done = finishedJobs(counts);
  const elapsed = (now.getTime() - Date.parse(rec.processing_started_at)) / 1000;
  if (done === 0 || elapsed <= 0) return null;
  const remaining = Math.max(0, rec.accepted - done);
  return Math.ceil(remaining / (done / elapsed));
}

export interface BatchMoney {
  spentMicroUsd: number;
  reservedMicroUsd: number;
}

const usd = (micro: number | null) => (micro === null ? null : microUsdToUsd(micro));

/** The API representation of a batch (dollars at the edge). */
export function toBatchView(rec: BatchRecord, counts: JobCounts, money: BatchMoney, now: Date, publicBaseUrl: string) {
  const status = deriveStatus(rec, counts);
  const base = `${publicBaseUrl}/v1/batches/${rec.id}`;
  return {
    id: rec.id,
    status,
    name: rec.name,
    source: rec.source,
    model: rec.default_model,
    on_invalid: rec.on_invalid,
    webhook_url: rec.webhook_url,
    total: rec.total,
    accepted: rec.accepted,
    rejected: rec.rejected,
    duplicates: rec.duplicates,
    counts,
    estimated_cost_usd: usd(rec.estimated_cost_micro_usd),
    estimated_seconds: rec.estimated_seconds,
    max_cost_usd: usd(rec.max_cost_micro_usd),
    spent_usd: usd(money.spentMicroUsd),
    reserved_usd: usd(money.reservedMicroUsd),
    eta_seconds: etaSeconds(rec, counts, status, now),
    retry_of: rec.retry_of,
    retried_by: rec.retried_by,
    created_at: rec.created_at,
    enqueued_at: rec.enqueued_at,
    started_at: rec.processing_started_at,
    cancel_requested_at: rec.cancel_requested_at,
    finished_at: status === "completed" || status === "cancelled" ? rec.finished_at : null,
    links: {
      results_csv: `${base}/results?format=csv`,
      results_jsonl: `${base}/results?format=jsonl`,
      archive: `${base}/archive`,
      errors: `${base}/errors`,
    },
  };
}

export type BatchView = ReturnType<typeof toBatchView>;
