import type { Redis } from "ioredis";
import { createKeys } from "./keys.ts";

/** Upper bounds (seconds) of the provider-call latency histogram; one more bucket is +Inf. */
export const PROVIDER_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** What a worker knows about one provider HTTP call (the provider client's `afterCall` arguments). */
export interface ProviderCallFacts {
  /** `submit`, `status`, `result` or `cancel`. */
  kind: string;
}
export interface ProviderCallOutcomeFacts {
  httpStatus: number | null;
  /** Wall time of the HTTP exchange, milliseconds. */
  durationMs: number;
  /** Set when the call failed: its classified code and any `Retry-After` (milliseconds). */
  error?: { code?: string; retryAfterMs?: number | null };
}

/** Cluster-wide provider-call counters, summed over every worker process. */
export interface ProviderMetricsSnapshot {
  calls: { endpoint: string; outcome: string; count: number }[];
  /** Per endpoint: non-cumulative counts per bucket of PROVIDER_LATENCY_BUCKETS, then +Inf; sum in seconds. */
  latency: { endpoint: string; buckets: number[]; sumSeconds: number }[];
  /** HTTP 429 answers. */
  throttled: { endpoint: string; count: number }[];
  /** Answers that carried a Retry-After, and the seconds they asked us to wait in total. */
  retryAfter: { endpoint: string; count: number; seconds: number }[];
}

// Label values become hash field parts: keep them to a small, safe alphabet.
const label = (value: string | undefined) => (value ?? "unknown").toLowerCase().replace(/[^a-z0-9_]/g, "_").slice(0, 60) || "unknown";

/** The hash fields one provider call adds to, with the amounts. */
export function providerCallIncrements(call: ProviderCallFacts, outcome: ProviderCallOutcomeFacts): [field: string, amount: number][] {
  const endpoint = label(call.kind);
  const seconds = Math.max(0, outcome.durationMs) / 1000;
  const index = PROVIDER_LATENCY_BUCKETS.findIndex((bound) => seconds <= bound);
  const out: [string, number][] = [
    [`calls|${endpoint}|${outcome.error ? label(outcome.error.code ?? "error") : "ok"}`, 1],
    [`latency|${endpoint}|${index === -1 ? "inf" : index}`, 1],
    [`latency_sum_us|${endpoint}`, Math.round(seconds * 1_000_000)],
  ];
  if (outcome.httpStatus === 429) out.push([`throttled|${endpoint}`, 1]);
  const retryAfterMs = outcome.error?.retryAfterMs;
  if (typeof retryAfterMs === "number" && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    out.push([`retry_after|${endpoint}`, 1], [`retry_after_ms|${endpoint}`, Math.round(retryAfterMs)]);
  }
  return out;
}

/**
 * Provider-call counters summed in the process and added to Redis once per `flushIntervalMs`
 * (one HINCRBY per changed field): four calls per job would otherwise cost four round trips
 * and a dozen commands. Counts a flush could not write are kept for the next one, so a Redis
 * outage delays metrics but does not lose them; `close()` writes what is left. `record` never
 * throws and never waits.
 */
export function createProviderMetricsBuffer(redis: Redis, prefix: string, options: { flushIntervalMs?: number } = {}) {
  const key = createKeys(prefix).providerMetrics();
  let pending = new Map<string, number>();
  let flushing: Promise<void> | null = null;

  const add = (into: Map<string, number>, field: string, amount: number) => into.set(field, (into.get(field) ?? 0) + amount);

  async function writePending(): Promise<void> {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    const entries = [...batch];
    try {
      const pipeline = redis.pipeline();
      for (const [field, amount] of entries) pipeline.hincrby(key, field, amount);
      const results = (await pipeline.exec()) ?? [];
      // Keep what was not written for the next flush.
      entries.forEach(([field, amount], i) => {
        if (!results[i] || results[i]![0]) add(pending, field, amount);
      });
    } catch {
      for (const [field, amount] of entries) add(pending, field, amount);
    }
  }

  /** Write what has been counted so far (one flush at a time). */
  function flush(): Promise<void> {
    flushing ??= writePending().finally(() => {
      flushing = null;
    });
    return flushing;
  }

  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1_000);
  timer.unref();

  return {
    record(call: ProviderCallFacts, outcome: ProviderCallOutcomeFacts): void {
      try {
        for (const [field, amount] of providerCallIncrements(call, outcome)) add(pending, field, amount);
      } catch {
        // Metrics must never disturb a provider call.
      }
    },
    flush,
    /** Stop the timer and write the remaining counts (best effort). */
    async close(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
  };
}

export type ProviderMetricsBuffer = ReturnType<typeof createProviderMetricsBuffer>;

/** Read the cluster-wide provider-call counters (one HGETALL). */
export async function readProviderMetrics(redis: Redis, prefix: string): Promise<ProviderMetricsSnapshot> {
  const hash = await redis.hgetall(createKeys(prefix).providerMetrics());
  const snapshot: ProviderMetricsSnapshot = { calls: [], latency: [], throttled: [], retryAfter: [] };
  const latency = new Map<string, { endpoint: string; buckets: number[]; sumSeconds: number }>();
  const retry = new Map<string, { endpoint: string; count: number; seconds: number }>();
  const latencyOf = (endpoint: string) => {
    let entry = latency.get(endpoint);
    if (!entry) latency.set(endpoint, (entry = { endpoint, buckets: new Array<number>(PROVIDER_LATENCY_BUCKETS.length + 1).fill(0), sumSeconds: 0 }));
    return entry;
  };
  const retryOf = (endpoint: string) => {
    let entry = retry.get(endpoint);
    if (!entry) retry.set(endpoint, (entry = { endpoint, count: 0, seconds: 0 }));
    return entry;
  };
  for (const [field, raw] of Object.entries(hash)) {
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    const [kind, endpoint, extra] = field.split("|");
    if (!endpoint) continue;
    if (kind === "calls" && extra) snapshot.calls.push({ endpoint, outcome: extra, count: value });
    else if (kind === "latency" && extra) {
      const index = extra === "inf" ? PROVIDER_LATENCY_BUCKETS.length : Number(extra);
      if (Number.isInteger(index) && index >= 0 && index <= PROVIDER_LATENCY_BUCKETS.length) latencyOf(endpoint).buckets[index]! += value;
    } else if (kind === "latency_sum_us") latencyOf(endpoint).sumSeconds = value / 1_000_000;
    else if (kind === "throttled") snapshot.throttled.push({ endpoint, count: value });
    else if (kind === "retry_after") retryOf(endpoint).count = value;
    else if (kind === "retry_after_ms") retryOf(endpoint).seconds = value / 1000;
  }
  snapshot.latency = [...latency.values()];
  snapshot.retryAfter = [...retry.values()];
  return snapshot;
}
