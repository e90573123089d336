import { isJobReference, type ModelId } from "@acebatch/contracts";
import {
  createJobEstimator,
  estimateCostMicroUsd,
  estimateOutputSeconds,
  EstimateError,
  SourceLengthError,
  sourceLengthProblem,
  type PriceTable,
} from "@acebatch/pricing";
import type { JobStore } from "@acebatch/queue";

export interface BatchPricingDeps {
  store: JobStore;
  prices: PriceTable;
  /** Length in seconds of a remote source track (SSRF-guarded); absent = remote sources stay unpriced. */
  probeSourceSeconds?: (url: string) => Promise<number>;
  /** Most distinct remote sources measured per upload; rows beyond it stay unpriced (the worker prices them). */
  maxProbes?: number;
  /** Remote measurements running at once. */
  probeConcurrency?: number;
}

export type PriceResult =
  /** `unmeasured`: why a remote source's length (so the cost) is unknown here; the worker measures it. */
  | { ok: true; costMicroUsd: number | null; seconds: number | null; unmeasured?: string }
  | { ok: false; column: string; message: string };

type SourceLength = { ok: true; seconds: number | null; unmeasured?: string } | { ok: false; message: string };

/**
 * Prices the rows of one upload. Each source track (a job id or a URL) is measured once per upload.
 * A source shown to be unusable (see isTransientSourceFailure: not audio, too long, a 404, a host
 * the SSRF guard refuses, …) makes its rows invalid with the reason, as the job would fail anyway;
 * one this host could not measure for now (network, timeout, 5xx, 401/403/429) leaves them valid
 * and unpriced, as POST /v1/jobs does, and the worker prices them before submitting.
 */
export function createBatchPricer(deps: BatchPricingDeps) {
  const maxProbes = deps.maxProbes ?? 500;
  const sources = new Map<string, Promise<SourceLength>>();
  let probes = 0;
  let running = 0;
  const waiting: (() => void)[] = [];

  async function limited<T>(fn: () => Promise<T>): Promise<T> {
    if (running >= (deps.probeConcurrency ?? 8)) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      waiting.shift()?.();
    }
  }

  async function measure(audio: string): Promise<SourceLength> {
    if (isJobReference(audio)) {
      const source = await deps.store.get(audio);
      if (!source) return { ok: false, message: `job ${audio} does not exist` };
      if (source.status !== "completed" || !source.output) {
        return { ok: false, message: `job ${audio} has no audio yet (status ${source.status}); submit this row once it is completed` };
      }
      return { ok: true, seconds: source.output.duration_seconds };
    }
    if (!deps.probeSourceSeconds || probes >= maxProbes) return { ok: true, seconds: null };
    probes++;
    const probe = deps.probeSourceSeconds;
    return limited(async (): Promise<SourceLength> => {
      try {
        const seconds = await probe(audio);
        const problem = sourceLengthProblem(seconds);
        return problem ? { ok: false, message: `cannot use this source audio: ${problem}` } : { ok: true, seconds };
      } catch (err) {
        if (!(err instanceof SourceLengthError)) throw err;
        if (err.transient) return { ok: true, seconds: null, unmeasured: err.message };
        return { ok: false, message: `cannot use this source audio: ${err.message}` };
      }
    });
  }

  function sourceLength(audio: string): Promise<SourceLength> {
    let pending = sources.get(audio);
    if (!pending) {
      pending = measure(audio);
      sources.set(audio, pending);
    }
    return pending;
  }

  // The estimator's source callbacks read lengths this pricer has already measured (see below).
  const known = async (audio: string) => {
    const length = await sourceLength(audio);
    return length.ok ? length.seconds : null;
  };
  const estimate = createJobEstimator({
    prices: deps.prices,
    sourceJobSeconds: known,
    probeSourceSeconds: async (url) => (await known(url)) ?? Number.NaN,
  });

  /** Seconds the provider will bill for a validated input, and their cost in micro-dollars (null: unknown until the worker measures it). */
  return async function price(model: ModelId, input: Record<string, unknown>): Promise<PriceResult> {
    if (input.audio === undefined) {
      // No source track to measure: the estimate needs no I/O.
      try {
        const seconds = estimateOutputSeconds(model, input, null);
        return { ok: true, costMicroUsd: estimateCostMicroUsd(model, seconds, deps.prices), seconds };
      } catch (err) {
        if (err instanceof EstimateError) return { ok: false, column: "input", message: err.message };
        throw err;
      }
    }
    if (typeof input.audio === "string") {
      const length = await sourceLength(input.audio);
      if (!length.ok) return { ok: false, column: "audio", message: length.message };
      if (length.seconds === null) return { ok: true, costMicroUsd: null, seconds: null, unmeasured: length.unmeasured };
    }
    try {
      const result = await estimate(model, input);
      return result ? { ok: true, costMicroUsd: result.costMicroUsd, seconds: result.seconds } : { ok: true, costMicroUsd: null, seconds: null };
    } catch (err) {
      if (err instanceof EstimateError) return { ok: false, column: "audio", message: err.message };
      throw err;
    }
  };
}

export type BatchPricer = ReturnType<typeof createBatchPricer>;
