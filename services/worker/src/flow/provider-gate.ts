import { createKeys, withLuaScripts } from "@acebatch/queue";
import type { Redis } from "ioredis";
import { sleep } from "../poll-schedule.ts";
import { GATE_ACQUIRE, GATE_SUCCESS, GATE_THROTTLE } from "./provider-gate-scripts.ts";

export interface ProviderGateSettings {
  /** Provider HTTP calls per second across every worker; 0 = no limit (holds still apply). */
  maxRps: number;
  /** Cap on any single hold, whatever Retry-After says (ms). */
  maxRetryAfterMs: number;
  /** First back-off step when a throttle carries no Retry-After (ms); doubles per throttle in a row. */
  backoffBaseMs: number;
  /**
   * Safety margin (ms) added to each second of the rate: grants are spaced (1000 + margin) / rate
   * ms apart, which keeps the provider's own one-second count within the limit despite jitter.
   */
  windowMarginMs: number;
}

export interface GateStats {
  throttles: number;
  heldMs: number;
}

type GateRedis = Redis & {
  acebatchGateAcquire(state: string, ...args: (string | number)[]): Promise<[number, number]>;
  acebatchGateThrottle(state: string, ...args: (string | number)[]): Promise<[number, number, string]>;
  acebatchGateSuccess(state: string, ...args: (string | number)[]): Promise<string>;
};

/** Multiplicative decrease per throttle; additive increase per calm second is a tenth of the limit. */
const DECREASE_FACTOR = 0.5;
const INCREASE_SHARE = 0.1;

/**
 * The one gate every provider HTTP call (submit, status, result, cancel) passes, shared by all
 * worker processes through Redis: an evenly spaced rate limit (GCRA) that adapts (AIMD) and an
 * account-wide hold that honours Retry-After.
 */
export function createProviderGate({ redis, prefix, settings }: { redis: Redis; prefix: string; settings: ProviderGateSettings }) {
  const keys = createKeys(prefix);
  const state = keys.providerGate("state");
  const r = withLuaScripts<GateRedis>(redis, {
    acebatchGateAcquire: { numberOfKeys: 1, lua: GATE_ACQUIRE },
    acebatchGateThrottle: { numberOfKeys: 1, lua: GATE_THROTTLE },
    acebatchGateSuccess: { numberOfKeys: 1, lua: GATE_SUCCESS },
  });
  const windowMs = 1_000 + settings.windowMarginMs;
  const minRps = settings.maxRps > 0 ? Math.min(settings.maxRps, 0.5) : 0;
  const stats: GateStats = { throttles: 0, heldMs: 0 };
  let recovering = false;

  return {
    stats,
    /** Wait until this process may make one provider call. */
    async acquire(signal?: AbortSignal): Promise<void> {
      for (;;) {
        const [wait, recoveringFlag] = await r.acebatchGateAcquire(state, settings.maxRps, windowMs);
        recovering = recoveringFlag === 1;
        if (wait <= 0) return;
        stats.heldMs += wait;
        await sleep(wait, signal);
      }
    },
    /** The provider throttled a call: hold everyone (Retry-After or jittered back-off), lower the rate. */
    async throttled(retryAfterMs: number | null): Promise<{ holdMs: number; streak: number; rate: number }> {
      stats.throttles++;
      recovering = true;
      const [holdMs, streak, rate] = await r.acebatchGateThrottle(
        state,
        retryAfterMs === null ? -1 : Math.max(0, Math.round(retryAfterMs)),
        settings.maxRetryAfterMs,
        settings.backoffBaseMs,
        Math.random(),
        settings.maxRps,
        minRps,
        DECREASE_FACTOR,
      );
      return { holdMs, streak, rate: Number(rate) };
    },
    /** A call went through; only costs a Redis round trip while recovering from throttles. */
    async succeeded(): Promise<void> {
      if (!recovering) return;
      const rate = Number(await r.acebatchGateSuccess(state, settings.maxRps, Math.max(0.1, settings.maxRps * INCREASE_SHARE)));
      recovering = settings.maxRps > 0 && rate < settings.maxRps;
    },
  };
}

export type ProviderGate = ReturnType<typeof createProviderGate>;
