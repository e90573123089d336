import { createHash } from "node:crypto";
import { microUsdToUsd, takesSourceAudio, type AudioInpaintInput } from "@acebatch/contracts";

import { createFaultInjector, type FaultInjector } from "./faults.ts";
import { createRequestStore, type RequestStore, type SimRequest, type SimStatus, type SubmitArgs } from "./request-store.ts";
import { DEFAULT_SIM_CONFIG, mergeSimConfig, type SimConfig, type SimConfigPatch } from "./sim-config.ts";
import { measureSourceSeconds } from "./source-probe.ts";
import { createCallStats, type CallCounters, type CallStats } from "./stats.ts";

/** `GET /__sim/stats`. */
export interface SimStats extends CallCounters {
  peak_concurrent: number;
  peak_rps: number;
  billed_seconds: number;
  billed_usd: number;
  requests_by_status: Record<SimStatus, number>;
}

/** Everything the simulator knows, shared by its routes and handed to tests. */
export interface SimulatorState {
  readonly now: () => number;
  readonly store: RequestStore;
  readonly calls: CallStats;
  readonly faults: FaultInjector;
  config(): SimConfig;
  /** Apply a partial config (validated; throws SimConfigError). */
  updateConfig(patch: SimConfigPatch | unknown): SimConfig;
  /** Forget every request, counter and call, and restore the initial config. */
  reset(): void;
  stats(): SimStats;
  /** Create a request; inpaint/outpaint start fetching their source in the background. */
  submit(args: Omit<SubmitArgs, "willFail">): SimRequest;
  /** Resolves once no source fetch is in flight (tests use it instead of sleeping). */
  settled(): Promise<void>;
}

/** sha256 of a bearer token: requests remember their owner without keeping the secret. */
export function tokenKey(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function createSimulatorState(options: { now: () => number; initialConfig?: SimConfigPatch }): SimulatorState {
  const initial = mergeSimConfig(DEFAULT_SIM_CONFIG, options.initialConfig ?? {});
  let config = initial;
  const store = createRequestStore({ now: options.now, config: () => config });
  const calls = createCallStats();
  const faults = createFaultInjector(config.fail_seed);
  const probes = new Set<Promise<void>>();

  const probeSource = (request: SimRequest): void => {
    const { audio } = request.input as AudioInpaintInput;
    const probe = measureSourceSeconds(audio, { timeoutMs: config.source_fetch_timeout_ms }).then(
      (seconds) => store.sourceMeasured(request, seconds),
      (err: Error) => store.sourceFailed(request, err.message),
    );
    probes.add(probe);
    void probe.finally(() => probes.delete(probe));
  };

  return {
    now: options.now,
    store,
    calls,
    faults,
    config: () => config,
    updateConfig(patch) {
      const next = mergeSimConfig(config, patch);
      store.advance(); // renders due under the old settings finish under them
      if (next.fail_seed !== config.fail_seed) faults.reseed(next.fail_seed);
      config = next;
      store.advance(); // a higher max_concurrent starts waiting requests now
      return config;
    },
    reset() {
      store.clear();
      calls.reset();
      config = initial;
      faults.reseed(config.fail_seed);
    },
    stats() {
      store.advance();
      const billing = store.billing();
      return {
        ...calls.counters,
        peak_concurrent: store.peakConcurrent(),
        peak_rps: calls.peakRps(),
        billed_seconds: billing.seconds,
        billed_usd: microUsdToUsd(billing.microUsd),
        requests_by_status: store.counts(),
      };
    },
    submit(args) {
      const request = store.submit({ ...args, willFail: faults.requestFails(config.fail) });
      if (takesSourceAudio(args.model)) probeSource(request);
      return request;
    },
    async settled() {
      while (probes.size > 0) await Promise.allSettled([...probes]);
    },
  };
}

