import { JOB_STATUSES, microUsdToUsd, type JobStatus } from "@acebatch/contracts";
import type { BatchRecord, JobRecord } from "@acebatch/queue";

const usd = (micro: number | null) => (micro === null ? null : microUsdToUsd(micro));

/**
 * A job as a webhook receiver sees it: the fields of `GET /v1/jobs/{id}` that say how it ended
 * (dollars, our own audio URL). Built here from the record because the API's view lives in the API.
 */
export function jobEventData(rec: JobRecord, publicBaseUrl: string): Record<string, unknown> {
  return {
    id: rec.id,
    status: rec.status,
    model: rec.model,
    batch_id: rec.batch_id,
    schedule_id: rec.schedule_id,
    attempts: rec.attempts,
    provider: { name: "runcomfy", request_id: rec.request_id },
    estimated_cost_usd: usd(rec.estimated_cost_micro_usd),
    cost_usd: usd(rec.cost_micro_usd),
    output: rec.output && {
      url: `${publicBaseUrl}/v1/jobs/${rec.id}/audio`,
      content_type: rec.output.content_type,
      duration_seconds: rec.output.duration_seconds,
      bytes: rec.output.bytes,
      sha256: rec.output.sha256,
      seed: rec.output.seed,
    },
    error: rec.error,
    input: rec.input,
    metadata: rec.metadata,
    created_at: rec.created_at,
    started_at: rec.started_at,
    finished_at: rec.finished_at,
  };
}

/** Every job status with a count (missing counters are 0). */
export function fullCounts(counts: Partial<Record<JobStatus, number>>): Record<JobStatus, number> {
  return Object.fromEntries(JOB_STATUSES.map((s) => [s, Math.max(0, counts[s] ?? 0)])) as Record<JobStatus, number>;
}

/** Whether every job of an enqueued batch has finished (the batch's own status may still say otherwise). */
export function batchIsFinished(rec: BatchRecord, counts: Record<JobStatus, number>): boolean {
  if (rec.status === "enqueueing") return false;
  const active = counts.queued + counts.waiting_budget + counts.in_progress;
  return active === 0 && counts.completed + counts.failed + counts.cancelled >= rec.accepted;
}

/** The batch summary of `batch.completed`: counts, money and where the results are. */
export function batchEventData(
  rec: BatchRecord,
  counts: Record<JobStatus, number>,
  spentMicroUsd: number | null,
  publicBaseUrl: string,
  finishedAt: string,
): Record<string, unknown> {
  const base = `${publicBaseUrl}/v1/batches/${rec.id}`;
  return {
    id: rec.id,
    name: rec.name,
    status: rec.cancel_requested_at ? "cancelled" : "completed",
    total: rec.total,
    accepted: rec.accepted,
    rejected: rec.rejected,
    counts,
    estimated_cost_usd: usd(rec.estimated_cost_micro_usd),
    spent_usd: usd(spentMicroUsd),
    created_at: rec.created_at,
    finished_at: rec.finished_at ?? finishedAt,
    results_url: `${base}/results?format=csv`,
  };
}
