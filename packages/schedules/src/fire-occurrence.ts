import { isJobReference, takesSourceAudio, type ModelId } from "@acebatch/contracts";
import { estimateCostMicroUsd, estimateOutputSeconds, type PriceTable } from "@acebatch/pricing";
import type { JobStore, Queues } from "@acebatch/queue";
import { budgetPeriodOf, lateness, occurrenceJobId, occurrenceKey, runInput, timingOf, type Trigger } from "./occurrence.ts";
import type { AuditRow, Claim, ClaimedJob, ScheduleStore } from "./schedule-store.ts";

export interface OccurrenceDeps {
  schedules: ScheduleStore;
  jobs: JobStore;
  /** Producer of the generate queue (its default job options are the deployment's). */
  queues: Pick<Queues, "generate">;
  prices: PriceTable;
  /**
   * Length in seconds of a source track given as a URL (inpaint/outpaint are billed on it), or
   * null when unknown. Without it, URL sources have no estimate: a capped schedule then skips.
   */
  sourceSeconds?: (url: string) => Promise<number | null>;
}

export interface FireRequest {
  scheduleId: string;
  /** When the occurrence was due (ms); for a manual run, the moment it was asked for. */
  scheduledMs: number;
  trigger: Trigger;
  nowMs: number;
}

/** What happened to an occurrence: its audit row, or `missing` when the schedule no longer exists. */
export type FireResult = { status: "decided"; row: AuditRow; replay: boolean } | { status: "missing" };

const MAX_CONFLICT_RETRIES = 20;

/** Estimated cost of one run in micro-dollars, or null when it cannot be known. */
async function estimateRun(deps: OccurrenceDeps, model: ModelId, input: Record<string, unknown>): Promise<number | null> {
  let sourceSeconds: number | null = null;
  if (takesSourceAudio(model)) {
    const audio = String(input.audio ?? "");
    if (isJobReference(audio)) sourceSeconds = (await deps.jobs.get(audio))?.output?.duration_seconds ?? null;
    else sourceSeconds = deps.sourceSeconds ? await deps.sourceSeconds(audio).catch(() => null) : null;
    if (sourceSeconds === null) return null;
  }
  try {
    return estimateCostMicroUsd(model, estimateOutputSeconds(model, input, sourceSeconds), deps.prices);
  } catch {
    return null;
  }
}

/**
 * Create (if absent) and enqueue the job of an enqueued occurrence. Both steps converge: the record
 * is create-if-absent under the occurrence's deterministic id, and BullMQ ignores a second add of
 * the same job id.
 */
async function ensureJob(deps: OccurrenceDeps, scheduleId: string, job: ClaimedJob): Promise<void> {
  const { created, record } = await deps.jobs.create({
    id: job.id,
    model: job.model,
    input: job.input,
    schedule_id: scheduleId,
    metadata: job.metadata,
    webhook_url: job.webhook_url,
    estimated_cost_micro_usd: job.estimated_cost_micro_usd,
    created_at: job.created_at,
  });
  if (created || record.status === "queued") {
    await deps.queues.generate.add("generate", { job_id: record.id, model: record.model, input: record.input }, { jobId: record.id });
  }
}

/**
 * Decide and carry out one occurrence of a schedule: overlap, budget, rotation and seed, one audit
 * row, and at most one job, whatever the number of workers, retries or duplicate firings.
 */
export async function fireOccurrence(deps: OccurrenceDeps, req: FireRequest): Promise<FireResult> {
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const rec = await deps.schedules.get(req.scheduleId);
    if (!rec) return { status: "missing" };
    const spec = rec.spec;
    const occurrence = occurrenceKey(spec, req.scheduledMs, req.trigger);

    // A retry of a decided occurrence only has to finish its job; nothing is computed again.
    const known = await deps.schedules.claimOf(rec.id, occurrence);
    if (known) return finish(deps, rec.id, known, true);

    const { input, tags, seed } = runInput(spec, rec.runs_total, rec.rotation_index);
    const estimate = await estimateRun(deps, spec.model, input);
    const late = req.trigger === "schedule" ? lateness(timingOf(spec, rec.anchor_ms), req.scheduledMs, req.nowMs) : { lateMs: 0, caughtUp: false };
    const period = spec.budget_period ? budgetPeriodOf(spec.budget_period, spec.timezone, req.nowMs) : null;
    const rotationLength = spec.tags_rotation?.length ?? 0;
    const jobId = occurrenceJobId(rec.id, occurrence, req.trigger === "manual" ? req.nowMs : req.scheduledMs);
    const firedAt = new Date(req.nowMs).toISOString();

    const result = await deps.schedules.claim({
      scheduleId: rec.id,
      occurrence,
      expectedVersion: rec.version,
      expectedRuns: rec.runs_total,
      nowMs: req.nowMs,
      disabled: req.trigger === "schedule" && !spec.enabled,
      overlap: spec.overlap,
      estimateMicroUsd: estimate,
      capPerRunMicroUsd: spec.max_cost_per_run_micro_usd,
      capPerPeriodMicroUsd: spec.max_cost_per_period_micro_usd,
      // Kept a little past the period's end so a late look at it still finds it.
      period: period ? { key: period.key, ttlSeconds: Math.ceil((period.resetsAtMs - req.nowMs) / 1_000) + 3 * 86_400 } : null,
      nextRotationIndex: rotationLength > 0 ? (rec.rotation_index + 1) % rotationLength : 0,
      caughtUp: late.caughtUp,
      row: {
        occurrence,
        trigger: req.trigger,
        scheduled_at: new Date(req.scheduledMs).toISOString(),
        fired_at: firedAt,
        late_ms: late.lateMs,
        caught_up: late.caughtUp,
        tags,
        seed,
        estimated_cost_micro_usd: estimate,
        period_key: period?.key ?? null,
        cap_micro_usd: spec.max_cost_per_run_micro_usd ?? spec.max_cost_per_period_micro_usd,
      },
      job: {
        id: jobId,
        model: spec.model,
        input,
        metadata: spec.metadata,
        webhook_url: spec.webhook_url,
        estimated_cost_micro_usd: estimate,
        created_at: firedAt,
      },
    });
    if (result.status === "missing") return { status: "missing" };
    if (result.status === "conflict") continue;
    return finish(deps, rec.id, result.claim, result.status === "existing");
  }
  throw new Error(`schedule ${req.scheduleId} kept changing while an occurrence was decided; it will be retried`);
}

async function finish(deps: OccurrenceDeps, scheduleId: string, claim: Claim, replay: boolean): Promise<FireResult> {
  if (claim.job) await ensureJob(deps, scheduleId, claim.job);
  return { status: "decided", row: claim.row, replay };
}
