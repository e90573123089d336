import type { Ledger, BudgetScope } from "@acebatch/ledger";
import { GLOBAL_SCOPE } from "@acebatch/ledger";
import { OutputTooLongError, SourceLengthError, type JobEstimate, type JobEstimator } from "@acebatch/pricing";
import type { JobRecord, JobStore } from "@acebatch/queue";
import { BudgetWait } from "../flow/hand-back.ts";
import { JobFailure } from "../job-failure.ts";

export interface JobMoneyDeps {
  ledger: Ledger;
  estimate: JobEstimator;
  store: JobStore;
  /** How often a job waiting for budget looks again (ms); a raised limit also wakes it at once. */
  recheckMs: number;
  /** Tell the rest of the system a budget threshold was crossed (log, event, webhook). */
  onThreshold: (event: { scope: BudgetScope; percent: number }) => void;
  now?: () => Date;
}

/** Budgets that can hold a job: the global one, and its API key's, batch's and schedule's when it has them. */
export function scopesOf(rec: Pick<JobRecord, "batch_id" | "schedule_id" | "key_id">): BudgetScope[] {
  const scopes: BudgetScope[] = [GLOBAL_SCOPE];
  if (rec.key_id) scopes.push({ kind: "key", id: rec.key_id });
  if (rec.batch_id) scopes.push({ kind: "batch", id: rec.batch_id });
  if (rec.schedule_id) scopes.push({ kind: "schedule", id: rec.schedule_id });
  return scopes;
}

/**
 * Money around one provider submit: reserve the estimate before sending (or wait for budget),
 * settle the real cost when the audio arrives, release what a failure did not spend. Every step
 * is keyed by `<job id>#<submit ordinal>`, so repeating it never counts twice.
 */
export function createJobMoney(deps: JobMoneyDeps) {
  const now = deps.now ?? (() => new Date());

  async function estimate(rec: JobRecord): Promise<JobEstimate> {
    try {
      const result = await deps.estimate(rec.model, rec.input);
      if (!result) throw new JobFailure("source_audio_unavailable", "the source track's length could not be learned");
      return result;
    } catch (err) {
      if (err instanceof SourceLengthError) {
        // The API applies the same classification to batch rows (see isTransientSourceFailure).
        throw new JobFailure("source_audio_unavailable", `cannot price this job: ${err.message}`, { retryable: err.transient });
      }
      // The source's length is known only now (a remote source): the provider would refuse it.
      if (err instanceof OutputTooLongError) throw new JobFailure("provider_rejected_input", err.message, { exitClass: 65 });
      throw err;
    }
  }

  async function settle(reservationId: string, rec: JobRecord, costMicroUsd: number, seconds: number): Promise<void> {
    const result = await deps.ledger.settle(reservationId, costMicroUsd, {
      model: rec.model,
      seconds,
      batchId: rec.batch_id,
      scheduleId: rec.schedule_id,
      finishedAt: now(),
      scopes: scopesOf(rec),
    });
    for (const crossing of result.thresholdsCrossed) deps.onThreshold(crossing);
  }

  return {
    scopesOf,
    /**
     * Reserve the cost of submit number `ordinal` before it is sent. Throws BudgetWait (after
     * marking the job `waiting_budget`) when any applicable budget cannot hold it.
     */
    async reserve(rec: JobRecord, ordinal: number): Promise<{ reservationId: string; estimate: JobEstimate }> {
      const est = await estimate(rec);
      const reservationId = `${rec.id}#${ordinal}`;
      const result = await deps.ledger.reserve(reservationId, est.costMicroUsd, scopesOf(rec), { attempt: ordinal });
      if (!result.ok) {
        await deps.store.transition(rec.id, {
          from: ["queued", "in_progress", "waiting_budget"],
          to: "waiting_budget",
          set: { estimated_cost_micro_usd: est.costMicroUsd },
        });
        const untilReset = result.resetsAt ? Date.parse(result.resetsAt) - now().getTime() + 50 : Infinity;
        const delay = Math.max(100, Math.min(deps.recheckMs, untilReset));
        throw new BudgetWait(`${result.blockedBy.kind} budget cannot hold ${est.costMicroUsd} µ$ more`, delay);
      }
      await deps.store.update(rec.id, { reservation_id: reservationId, estimated_cost_micro_usd: est.costMicroUsd });
      return { reservationId, estimate: est };
    },
    /** An earlier submit may have been charged without our knowing: count its estimate as spent. */
    async chargePossibleSubmit(rec: JobRecord, reservationId: string): Promise<void> {
      const est = await estimate(rec);
      await settle(reservationId, rec, est.costMicroUsd, est.seconds);
    },
    /** The provider's render is paid for: record the real cost. */
    settle,
    /** Give back a reservation nothing was spent against. */
    async release(reservationId: string): Promise<void> {
      await deps.ledger.release(reservationId);
    },
    /** A failed job: money the provider charged stays spent (its render finished); anything else goes back. */
    async onFailure(rec: JobRecord): Promise<void> {
      if (!rec.reservation_id) return;
      if (rec.provider_status === "completed") {
        const est = await estimate(rec).catch(() => null);
        if (est) await settle(rec.reservation_id, rec, est.costMicroUsd, est.seconds);
        return;
      }
      await deps.ledger.release(rec.reservation_id);
    },
  };
}

export type JobMoney = ReturnType<typeof createJobMoney>;
