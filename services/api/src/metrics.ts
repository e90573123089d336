import { JOB_STATUSES, microUsdToUsd } from "@acebatch/contracts";
import { GLOBAL_SCOPE, type Ledger } from "@acebatch/ledger";
import { createKeys, PROVIDER_LATENCY_BUCKETS, readProviderAuthFailure, readProviderMetrics, type ProviderMetricsSnapshot } from "@acebatch/queue";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from "prom-client";

export interface ApiMetricsDeps {
  redis: Redis;
  prefix: string;
  ledger: Ledger;
  /** Every queue of the job catalog (see catalog-queues.ts). */
  queues: readonly Queue[];
}

type Labels = Record<string, string | number>;
interface Sample {
  metricName?: string;
  labels: Labels;
  value: number;
}

/** Reuse one read for every metric of the same scrape (several metrics come from one Redis read). */
function perScrape<T>(read: () => Promise<T>, ttlMs = 1_000): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | null = null;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > ttlMs) {
      const value = read();
      cached = { at: now, value };
      value.catch(() => {
        if (cached?.value === value) cached = null;
      });
    }
    return cached.value;
  };
}

/**
 * The API's Prometheus registry: one per app (no global default registry, so tests can build
 * several apps). Everything cluster-wide is read from Redis at scrape time, cheaply: status index
 * sizes (ZCARD), BullMQ job counts, the ledger, and the provider-call counters workers write
 * (`createProviderMetricsBuffer`), so one scrape of any API process shows the whole cluster.
 */
export function createApiMetrics(deps: ApiMetricsDeps) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const keys = createKeys(deps.prefix);
  const registers = [registry];

  const collectErrors = new Counter({
    name: "acebatch_metrics_collect_errors_total",
    help: "Scrape-time reads that failed (their series are missing from that scrape)",
    labelNames: ["collector"],
    registers,
  });

  /** A gauge filled at scrape time; on a failed read it is left empty (never stale) and the error counted. */
  function scrapedGauge(name: string, help: string, labelNames: readonly string[], fill: (gauge: Gauge) => Promise<void>) {
    return new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        this.reset();
        try {
          await fill(this);
        } catch {
          this.reset();
          collectErrors.inc({ collector: name });
        }
      },
    });
  }

  /** A counter or histogram whose values live in Redis (summed over every process that writes them). */
  function externalMetric(name: string, help: string, type: "counter" | "histogram", read: () => Promise<Sample[]>) {
    const get = async () => {
      let values: Sample[] = [];
      try {
        values = await read();
      } catch {
        collectErrors.inc({ collector: name });
      }
      return { name, help, type, aggregator: "sum", values };
    };
    registry.registerMetric({ name, help, type, aggregator: "sum", get, reset: () => undefined } as unknown as Metric);
  }

  const statusCounts = perScrape(async () => {
    const pipeline = deps.redis.pipeline();
    for (const status of JOB_STATUSES) pipeline.zcard(keys.jobsByStatus(status));
    const results = (await pipeline.exec()) ?? [];
    return JOB_STATUSES.map((status, i) => {
      const [err, count] = results[i] ?? [new Error("missing reply"), 0];
      if (err) throw err;
      return { status, count: Number(count) };
    });
  });
  const spendByModel = perScrape(() => deps.ledger.spend("model"));
  const provider = perScrape<ProviderMetricsSnapshot>(() => readProviderMetrics(deps.redis, deps.prefix));

  scrapedGauge("acebatch_jobs", "Jobs by status (sizes of the job store's status indexes)", ["status"], async (g) => {
    for (const { status, count } of await statusCounts()) g.set({ status }, count);
  });
  scrapedGauge("acebatch_generations_in_flight", "Jobs at the provider right now (status in_progress)", [], async (g) => {
    g.set((await statusCounts()).find((s) => s.status === "in_progress")?.count ?? 0);
  });
  scrapedGauge("acebatch_queue_jobs", "BullMQ jobs per queue and state (queue depth)", ["queue", "state"], async (g) => {
    for (const queue of deps.queues) {
      const counts = await queue.getJobCounts();
      for (const [state, count] of Object.entries(counts)) g.set({ queue: queue.name, state }, count);
    }
  });
  scrapedGauge(
    "acebatch_provider_token_refused",
    "1 while the provider refuses RUNCOMFY_TOKEN and the queue is paused until a probe is accepted, else 0",
    [],
    async (g) => g.set((await readProviderAuthFailure(deps.redis, deps.prefix)) ? 1 : 0),
  );
  scrapedGauge("acebatch_batches", "Batches ever created", [], async (g) => g.set(await deps.redis.zcard(keys.batchesAll())));
  scrapedGauge("acebatch_schedules", "Schedules that exist", [], async (g) => g.set(await deps.redis.zcard(keys.schedulesAll())));
  scrapedGauge(
    "acebatch_budget_usd",
    "The global budget in its current period: limit (absent when unlimited), spent, reserved, remaining (absent when unlimited)",
    ["scope", "kind"],
    async (g) => {
      const budget = await deps.ledger.getBudget(GLOBAL_SCOPE);
      const scope = "global";
      if (budget.limitMicroUsd !== null) g.set({ scope, kind: "limit" }, microUsdToUsd(budget.limitMicroUsd));
      g.set({ scope, kind: "spent" }, microUsdToUsd(budget.spentMicroUsd));
      g.set({ scope, kind: "reserved" }, microUsdToUsd(budget.reservedMicroUsd));
      if (budget.remainingMicroUsd !== null) g.set({ scope, kind: "remaining" }, microUsdToUsd(budget.remainingMicroUsd));
    },
  );

  externalMetric("acebatch_settled_jobs_total", "Jobs whose provider cost was settled, by model (ledger)", "counter", async () =>
    (await spendByModel()).map((row) => ({ labels: { model: row.key }, value: row.jobs })),
  );
  externalMetric("acebatch_spent_usd_total", "Money spent at the provider since the start, by model (ledger)", "counter", async () =>
    (await spendByModel()).map((row) => ({ labels: { model: row.key }, value: microUsdToUsd(row.costMicroUsd) })),
  );
  externalMetric("acebatch_audio_seconds_total", "Seconds of audio generated, by model (ledger)", "counter", async () =>
    (await spendByModel()).map((row) => ({ labels: { model: row.key }, value: row.seconds })),
  );
  externalMetric("acebatch_provider_calls_total", "Provider HTTP calls by endpoint and outcome (ok or the failure code), all workers", "counter", async () =>
    (await provider()).calls.map((c) => ({ labels: { endpoint: c.endpoint, outcome: c.outcome }, value: c.count })),
  );
  externalMetric("acebatch_provider_throttled_total", "Provider answers with HTTP 429, by endpoint, all workers", "counter", async () =>
    (await provider()).throttled.map((t) => ({ labels: { endpoint: t.endpoint }, value: t.count })),
  );
  externalMetric("acebatch_provider_retry_after_total", "Provider answers that carried Retry-After, by endpoint, all workers", "counter", async () =>
    (await provider()).retryAfter.map((r) => ({ labels: { endpoint: r.endpoint }, value: r.count })),
  );
  externalMetric("acebatch_provider_retry_after_seconds_total", "Seconds of waiting the provider asked for with Retry-After, all workers", "counter", async () =>
    (await provider()).retryAfter.map((r) => ({ labels: { endpoint: r.endpoint }, value: r.seconds })),
  );
  const durationName = "acebatch_provider_call_duration_seconds";
  externalMetric(durationName, "Provider HTTP call latency by endpoint, all workers", "histogram", async () =>
    (await provider()).latency.flatMap(({ endpoint, buckets, sumSeconds }) => {
      let cumulative = 0;
      const samples: Sample[] = buckets.map((count, i) => {
        cumulative += count;
        const le = i < PROVIDER_LATENCY_BUCKETS.length ? String(PROVIDER_LATENCY_BUCKETS[i]) : "+Inf";
        return { metricName: `${durationName}_bucket`, labels: { endpoint, le }, value: cumulative };
      });
      samples.push({ metricName: `${durationName}_sum`, labels: { endpoint }, value: sumSeconds });
      samples.push({ metricName: `${durationName}_count`, labels: { endpoint }, value: cumulative });
      return samples;
    }),
  );

  const httpDuration = new Histogram({
    name: "acebatch_http_request_duration_seconds",
    help: "API request duration by method, route pattern and status code (this process)",
    labelNames: ["method", "route", "status_code"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  return { registry, httpDuration };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
