import { createCallLog, type CallLog, type CallRecord } from "./call-log.ts";
import { createSlidingWindow } from "./sliding-window.ts";

/** Counters of what clients did to the simulator; reset by `POST /__sim/reset`. */
export interface CallCounters {
  submits: number;
  rejected_submits: number;
  status_calls: number;
  result_calls: number;
  cancels: number;
  downloads: number;
  served_401: number;
  served_429: number;
  served_5xx: number;
  served_timeouts: number;
}

export interface CallStats {
  readonly counters: CallCounters;
  readonly log: CallLog;
  /** Record the arrival of a /v1 call; the returned record's `status` is filled in when answered. */
  recordCall(atMs: number, method: string, path: string): CallRecord;
  /** Most /v1 calls seen in any one-second window. */
  peakRps(): number;
  /** Rate limiter: admit one more call at `atMs` unless `rps` calls were admitted in the last second. */
  admit(atMs: number, rps: number): boolean;
  reset(): void;
}

const zeroCounters = (): CallCounters => ({
  submits: 0,
  rejected_submits: 0,
  status_calls: 0,
  result_calls: 0,
  cancels: 0,
  downloads: 0,
  served_401: 0,
  served_429: 0,
  served_5xx: 0,
  served_timeouts: 0,
});

export function createCallStats(): CallStats {
  const counters = zeroCounters();
  const log = createCallLog();
  const window = createSlidingWindow(1000);
  const admitted = createSlidingWindow(1000);
  let peak = 0;
  return {
    counters,
    log,
    recordCall(atMs, method, path) {
      window.add(atMs);
      peak = Math.max(peak, window.countAt(atMs));
      const record: CallRecord = { at_ms: atMs, method, path, status: 0 };
      log.add(record);
      return record;
    },
    peakRps: () => peak,
    admit(atMs, rps) {
      if (admitted.countAt(atMs) >= rps) return false;
      admitted.add(atMs);
      return true;
    },
    reset() {
      Object.assign(counters, zeroCounters());
      log.clear();
      window.clear();
      admitted.clear();
      peak = 0;
    },
  };
}
