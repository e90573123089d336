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

/**
 * Count one provider call in Redis (one pipelined round trip, fire and forget): calls by endpoint
 * and outcome (`ok` or the failure code), a latency histogram, 429s and Retry-After waits. Meant for
 * the provider client's `afterCall` hook in every worker; never throws, never waits.
 */
export function recordProviderCall(redis: Redis, prefix: string, call: ProviderCallFacts, outcome: ProviderCallOutcomeFacts): void {
  try {
    const key = createKeys(prefix).providerMetrics();
    const endpoint = label(call.kind);
    const seconds = Math.max(0, outcome.durationMs) / 1000;
    const index = PROVIDER_LATENCY_BUCKETS.findIndex((bound) => seconds <= bound);
    const pipeline = redis
      .pipeline()
      .hincrby(key, `calls|${endpoint}|${outcome.error ? label(outcome.error.code ?? "error") : "ok"}`, 1)
      .hincrby(key, `latency|${endpoint}|${index === -1 ? "inf" : index}`, 1)
      .hincrby(key, `latency_sum_us|${endpoint}`, Math.round(seconds * 1_000_000));
    if (outcome.httpStatus === 429) pipeline.hincrby(key, `throttled|${endpoint}`, 1);
    const retryAfterMs = outcome.error?.retryAfterMs;
    if (typeof retryAfterMs === "number" && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
      pipeline.hincrby(key, `retry_after|${endpoint}`, 1).hincrby(key, `retry_after_ms|${endpoint}`, Math.round(retryAfterMs));
    }
    pipeline.exec().catch(() => undefined);
  } catch {
    // Metrics must never disturb a provider call.
  }
}

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
