import { parseModelInput, type JobStatus } from "@acebatch/contracts";
import type { JobRecord, JobStore } from "@acebatch/queue";
import type { Logger } from "pino";
import { BudgetWait, HandBack } from "./flow/hand-back.ts";
import type { ResilientProvider } from "./flow/resilient-provider.ts";
import { claimSubmit, SubmitClaimLost, type HeldSubmitClaim } from "./flow/submit-claim.ts";
import { JobFailure } from "./job-failure.ts";
import type { JobMoney } from "./money/job-money.ts";

export interface SubmitDeps {
  store: JobStore;
  provider: ResilientProvider;
  money: JobMoney;
  resolveProviderInput: (input: Record<string, unknown>) => Promise<Record<string, unknown>>;
  settings: {
    resubmitAmbiguous: boolean;
    /** How long a crashed worker's submit claim keeps the job (ms); a live holder renews it. */
    submitLeaseMs: number;
  };
  now: () => Date;
}

/** The job reached a final state elsewhere (e.g. its owner cancelled it) before this attempt's submit left. */
export class EndedBeforeSend extends Error {
  readonly status: JobStatus | null;
  constructor(status: JobStatus | null) {
    super(`the job is ${status ?? "gone"}; its submit was not sent`);
    this.name = "EndedBeforeSend";
    this.status = status;
  }
}

/**
 * The submit half of an attempt: claim the job, reserve its money, send it to the provider once
 * and record the request id, all under the fenced claim (see flow/submit-claim.ts). Returns the
 * provider's request id; throws HandBack / BudgetWait / JobFailure / EndedBeforeSend otherwise.
 */
export function createJobSubmitter(deps: SubmitDeps) {
  const { now } = deps;

  /** Whether a failed submit may still have created a paid request at the provider. */
  const isAmbiguous = (err: unknown) => (err as { ambiguous?: boolean }).ambiguous === true;

  /**
   * Submit once. Each submit holds its own reservation (`<job>#<ordinal>`); a submit whose outcome
   * is unknown (timeout or 5xx after sending, or a crash before its request id was recorded) is
   * charged at its estimate, because it may have been billed, before the next one is reserved.
   */
  async function submit(rec: JobRecord, log: Logger, signal?: AbortSignal): Promise<string> {
    // Fencing: only the holder of a live claim may submit, and every write of the submit is made
    // under the claim's token. Two workers holding the same job (a BullMQ lock lost while the
    // first was starved of CPU) can never both pay for it.
    const claimed = await claimSubmit(deps.store, rec.id, deps.settings.submitLeaseMs, log);
    if (!("held" in claimed)) {
      if (claimed.claim === "busy") throw new HandBack("another worker is submitting this job right now", 1_000);
      if (claimed.claim === "missing") throw new JobFailure("invalid_payload", `job ${rec.id} has no record`);
      // Submitted by another worker meanwhile: carry on with its request.
      const fresh = await deps.store.get(rec.id);
      if (fresh?.request_id) return fresh.request_id;
      throw new HandBack(`job ${rec.id} was just submitted by another worker; resuming it shortly`, 100);
    }
    const { held } = claimed;
    try {
      return await submitHoldingClaim(rec, claimed.claim === "stale", held, log, signal);
    } finally {
      held.stop();
    }
  }

  async function submitHoldingClaim(rec: JobRecord, stale: boolean, held: HeldSubmitClaim, log: Logger, signal?: AbortSignal): Promise<string> {
    let current = rec;
    let unknownEarlier = rec.submit_state === "ambiguous";
    if (stale) {
      // A crash between sending and recording the answer: that submit's outcome is unknown.
      if (current.reservation_id) await deps.money.chargePossibleSubmit(current, current.reservation_id);
      current = { ...current, submits: current.submits + 1 };
      await held.write({ submits: current.submits });
      unknownEarlier = true;
    }
    const releaseClaim = () => held.end({ submit_state: unknownEarlier ? "ambiguous" : "none" });
    if (unknownEarlier) {
      if (!deps.settings.resubmitAmbiguous) {
        await releaseClaim();
        throw new JobFailure(
          "ambiguous_submission",
          "an earlier submit of this job may have reached the provider without an answer; not resubmitting (PROVIDER_RESUBMIT_AMBIGUOUS=false)",
        );
      }
      log.warn("earlier submit outcome unknown (it stays charged); submitting again");
    }
    const parsed = parseModelInput(current.model, current.input);
    if (!parsed.success) {
      await releaseClaim();
      throw new JobFailure("invalid_payload", `stored input no longer validates: ${parsed.error.message}`);
    }

    let ordinal = current.submits + 1;
    let reservationId: string;
    try {
      ({ reservationId } = await deps.money.reserve(current, ordinal));
    } catch (err) {
      await releaseClaim();
      throw err;
    }
    let providerInput: Record<string, unknown>;
    try {
      providerInput = await deps.resolveProviderInput(parsed.data as Record<string, unknown>);
    } catch (err) {
      await deps.money.release(reservationId);
      await releaseClaim();
      throw err;
    }
    const active = await deps.store.transition(rec.id, {
      from: ["queued", "waiting_budget", "in_progress"],
      to: "in_progress",
      set: { started_at: current.started_at ?? now().toISOString() },
    });
    if (!active.ok) {
      // Cancelled by its owner since this attempt began: nothing is sent, nothing is spent.
      await deps.money.release(reservationId);
      await releaseClaim();
      throw new EndedBeforeSend(active.reason === "not_allowed" ? active.current : null);
    }
    let requestId: string;
    try {
      ({ requestId } = await deps.provider.submit(current.model, providerInput, {
        logger: log,
        signal,
        // From here on the provider may create (and bill) a request: a crash is an unknown outcome.
        // Marking it is also the last check that this worker still holds the claim.
        onSend: () => held.write({ submit_state: "submitting" }),
        // Throttled or never sent: no request exists, so a crash while waiting to resend is not ambiguous.
        onSubmitNotCreated: () => held.write({ submit_state: "claimed" }),
        onAmbiguousSubmit: async (err) => {
          log.warn({ code: err.code }, "submit outcome unknown (a paid request may exist); charging it and submitting again");
          await deps.money.chargePossibleSubmit(current, reservationId);
          unknownEarlier = true;
          await held.write({ submits: ordinal });
          ordinal++;
          ({ reservationId } = await deps.money.reserve(current, ordinal));
        },
      }));
    } catch (err) {
      if (err instanceof SubmitClaimLost) {
        await releaseUnsharedReservation(rec.id, reservationId);
      } else if (isAmbiguous(err)) {
        await deps.money.chargePossibleSubmit(current, reservationId);
        await held.end({ submits: ordinal, submit_state: "ambiguous" });
        if (!deps.settings.resubmitAmbiguous) {
          throw new JobFailure(
            "ambiguous_submission",
            `the submit's outcome is unknown (${(err as Error).message}); a paid request may exist, so it is not resubmitted (PROVIDER_RESUBMIT_AMBIGUOUS=false)`,
          );
        }
      } else if (err instanceof BudgetWait) {
        // The next submit did not fit the budget after an unknown outcome: wait, keeping it charged.
        await releaseClaim();
      } else {
        // Never sent, or refused before a request existed: nothing was spent.
        await deps.money.release(reservationId);
        await releaseClaim();
      }
      throw err;
    }
    if (!(await held.end({ request_id: requestId, submit_state: "submitted", submits: ordinal, provider_status: "in_queue" }))) {
      await abandonRequest(rec.id, requestId, log);
      throw new SubmitClaimLost(rec.id);
    }
    log.info({ requestId }, "submitted to provider");
    return requestId;
  }

  /**
   * The claim lapsed before this worker's request left. The new holder reserves for its own submit;
   * when that reservation is this one (same job and ordinal) it is left to the new holder, and
   * when it is not, nothing will ever settle this one, so it goes back to the budget.
   */
  async function releaseUnsharedReservation(jobId: string, reservationId: string): Promise<void> {
    const fresh = await deps.store.get(jobId);
    if (fresh && fresh.reservation_id !== reservationId) await deps.money.release(reservationId);
  }

  /**
   * The provider accepted this worker's request after its claim had lapsed and another worker took
   * the job over (which charged this submit as an unknown outcome). The request is not recorded
   * on the job, so nobody would poll it: cancel it at the provider while that may still be free.
   */
  async function abandonRequest(jobId: string, requestId: string, log: Logger): Promise<void> {
    log.error({ requestId }, "the provider accepted a request after this worker's submit claim on the job lapsed; cancelling that request");
    try {
      const { outcome } = await deps.provider.cancel(requestId, { logger: log });
      log.warn({ requestId, outcome }, "cancel of the request sent under a lapsed claim answered");
    } catch (err) {
      log.error({ err, requestId, jobId }, "could not cancel the request sent under a lapsed claim; it may render and be billed");
    }
  }

  return submit;
}
