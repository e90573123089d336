import { isJobReference, type ModelId } from "@acebatch/contracts";
import { estimateCostMicroUsd, estimateOutputSeconds } from "./estimate.ts";
import type { PriceTable } from "./prices.ts";

export interface JobEstimate {
  /** Seconds of audio the provider will bill. */
  seconds: number;
  costMicroUsd: number;
}

export interface JobEstimatorDeps {
  prices: PriceTable;
  /** Length in seconds of one of our own completed jobs' audio, or null when it has none. */
  sourceJobSeconds: (jobId: string) => Promise<number | null>;
  /** Length of a remote source track (SSRF-guarded probe); absent = remote sources cannot be estimated here. */
  probeSourceSeconds?: (url: string) => Promise<number>;
}

/**
 * What a job will cost before it is submitted: text-to-audio from `duration`; inpaint from the
 * source length; outpaint from source + extensions. Returns null only when the source is a remote
 * URL and no probe was given (the API defers those to the worker); a probe failure throws.
 */
export function createJobEstimator(deps: JobEstimatorDeps) {
  return async function estimateJob(model: ModelId, input: Record<string, unknown>): Promise<JobEstimate | null> {
    let sourceSeconds: number | null = null;
    const audio = input.audio;
    if (typeof audio === "string") {
      if (isJobReference(audio)) {
        sourceSeconds = await deps.sourceJobSeconds(audio);
      } else if (deps.probeSourceSeconds) {
        sourceSeconds = await deps.probeSourceSeconds(audio);
      } else {
        return null;
      }
    }
    const seconds = estimateOutputSeconds(model, input, sourceSeconds);
    return { seconds, costMicroUsd: estimateCostMicroUsd(model, seconds, deps.prices) };
  };
}

export type JobEstimator = ReturnType<typeof createJobEstimator>;
