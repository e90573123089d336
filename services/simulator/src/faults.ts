import type { SimConfig } from "./sim-config.ts";

export type InjectedFault = { kind: "429" } | { kind: "5xx"; statusCode: 500 | 502 | 503 } | { kind: "timeout" };

/** Draws for fault injection: seeded (repeatable runs) when `fail_seed` is set, else Math.random. */
export interface FaultInjector {
  /** Which fault, if any, to inject into one /v1 call. */
  forCall(fail: SimConfig["fail"]): InjectedFault | null;
  /** Whether a new request should end `failed`. */
  requestFails(fail: SimConfig["fail"]): boolean;
  reseed(seed: number | null): void;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const STATUSES_5XX = [500, 502, 503] as const;

export function createFaultInjector(seed: number | null): FaultInjector {
  let random = seed === null ? Math.random : mulberry32(seed);
  return {
    forCall(fail) {
      if (fail.rate_429 === 0 && fail.rate_5xx === 0 && fail.rate_timeout === 0) return null;
      const draw = random();
      if (draw < fail.rate_429) return { kind: "429" };
      if (draw < fail.rate_429 + fail.rate_5xx) {
        return { kind: "5xx", statusCode: STATUSES_5XX[Math.floor(random() * STATUSES_5XX.length)]! };
      }
      if (draw < fail.rate_429 + fail.rate_5xx + fail.rate_timeout) return { kind: "timeout" };
      return null;
    },
    requestFails(fail) {
      return fail.rate_failed > 0 && random() < fail.rate_failed;
    },
    reseed(next) {
      random = next === null ? Math.random : mulberry32(next);
    },
  };
}
