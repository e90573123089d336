import { randomUUID } from "node:crypto";
import type { JobRecord, JobStore, SubmitClaim } from "@acebatch/queue";
import type { Logger } from "pino";
import { HandBack } from "./hand-back.ts";

/**
 * This worker's claim to submit a job lapsed and another worker claimed it: whatever this one was
 * doing for the submit stops, and the job goes back to the queue (the new holder carries it on).
 */
export class SubmitClaimLost extends HandBack {
  constructor(jobId: string) {
    super(`another worker took over submitting job ${jobId} after this worker's claim lapsed`, 1_000);
    this.name = "SubmitClaimLost";
  }
}

/** A live submit claim: its lease is renewed in the background until `stop()`. */
export interface HeldSubmitClaim {
  /** Set fields as the claim's holder and renew its lease; throws SubmitClaimLost when it is no longer held. */
  write(set: Partial<JobRecord>): Promise<void>;
  /** Set the last fields and end the claim; false (nothing written) when it was no longer held. */
  end(set: Partial<JobRecord>): Promise<boolean>;
  stop(): void;
}

/**
 * Claim the right to submit a job (see the store's CLAIM_SUBMIT). While the claim is held its
 * lease is renewed every third of `leaseMs`, so a submit that waits long for the provider gate
 * (throttle holds) keeps it; only a worker that died or stalled longer than the lease loses it.
 * Every write under the claim is fenced by its token, so a worker that lost it cannot write over
 * the new holder, or send a request after it.
 */
export async function claimSubmit(
  store: JobStore,
  jobId: string,
  leaseMs: number,
  logger: Logger,
): Promise<{ claim: Exclude<SubmitClaim, "ok" | "stale"> } | { claim: "ok" | "stale"; held: HeldSubmitClaim }> {
  const token = randomUUID();
  const claim = await store.claimSubmit(jobId, leaseMs, token);
  if (claim !== "ok" && claim !== "stale") return { claim };

  let lost = false;
  const renew = setInterval(() => {
    store.updateSubmitClaim(jobId, token, {}, { renewLeaseMs: leaseMs }).then(
      (held) => {
        if (held) return;
        lost = true;
        clearInterval(renew);
      },
      // Redis unreachable: the next renewal tries again; a write under the claim will tell.
      (err: unknown) => logger.debug({ err, jobId }, "submit claim renewal failed"),
    );
  }, Math.max(100, Math.floor(leaseMs / 3)));
  renew.unref();

  const held: HeldSubmitClaim = {
    async write(set) {
      if (lost || !(await store.updateSubmitClaim(jobId, token, set, { renewLeaseMs: leaseMs }))) {
        lost = true;
        throw new SubmitClaimLost(jobId);
      }
    },
    async end(set) {
      clearInterval(renew);
      if (lost) return false;
      lost = !(await store.updateSubmitClaim(jobId, token, set, { end: true }));
      return !lost;
    },
    stop() {
      clearInterval(renew);
    },
  };
  return { claim, held };
}
