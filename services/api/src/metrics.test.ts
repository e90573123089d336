import { createLedger } from "@acebatch/ledger";
import { createProviderMetricsBuffer, QUEUE_NAMES } from "@acebatch/queue";
import { waitFor } from "@acebatch/testing";
import { afterEach, describe, expect, inject, it } from "vitest";
import { makeTestApp, TEST_ADMIN_KEY, type TestApp } from "./test-app.ts";

const T2A = "acestep-ai/ace-step/text-to-audio";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the Prometheus text format (0.0.4): throws on any line it does not understand. */
function parsePrometheus(text: string) {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  // Values as Prometheus reads them (Go's ParseFloat: NaN in any case; prom-client writes "Nan"
  // for the event-loop lag before its first sample).
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?(?:[0-9.e+-]+|[Nn][Aa][Nn]|\+Inf|-Inf))(?: -?\d+)?$/;
  const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
    if (comment) {
      if (comment[1] === "TYPE") {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(comment[3]!)) throw new Error(`bad TYPE line: ${line}`);
        types.set(comment[2]!, comment[3]!);
      }
      continue;
    }
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const [, name, rawLabels = "", value] = match;
    const family = [name!, name!.replace(/_(bucket|sum|count)$/, "")].find((n) => types.has(n));
    if (!family) throw new Error(`sample before its TYPE line: ${line}`);
    const labels: Record<string, string> = {};
    labelPair.lastIndex = 0;
    let consumed = 0;
    for (let pair = labelPair.exec(rawLabels); pair; pair = labelPair.exec(rawLabels)) {
      labels[pair[1]!] = pair[2]!;
      consumed = labelPair.lastIndex;
    }
    if (consumed !== rawLabels.length) throw new Error(`bad labels: ${line}`);
    samples.push({ name: name!, labels, value: Number(value) });
  }
  const find = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  const value = (name: string, labels: Record<string, string> = {}) => {
    const found = find(name, labels);
    if (found.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${found.length} samples`);
    return found[0]!.value;
  };
  return { types, samples, find, value };
}

const apps: TestApp[] = [];
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});
async function app() {
  const t = await makeTestApp({ label: "metrics", redisUrl: inject("redisUrl") });
  apps.push(t);
  return t;
}
async function scrape(t: TestApp) {
  const res = await t.call("GET", "/metrics", null);
  expect(res.statusCode).toBe(200);
  expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheus(res.body);
}

describe("GET /metrics", () => {
  it("shows jobs, queues, money, provider calls from every worker, HTTP latency and process metrics", async () => {
    const t = await app();
    for (const tags of ["a", "b"]) expect((await t.call("POST", "/v1/jobs", TEST_ADMIN_KEY, { model: T2A, input: { tags, duration: 10 } })).statusCode).toBe(202);
    expect((await t.call("PUT", "/v1/budget", TEST_ADMIN_KEY, { limit_usd: 10 })).statusCode).toBe(200);
    const ledger = createLedger({ redis: t.redis, prefix: t.prefix });
    await ledger.settle("job_settled_1", 18_000, { model: T2A, seconds: 90 });
    // What worker processes count through the provider client's afterCall hook and flush.
    const providerMetrics = createProviderMetricsBuffer(t.redis, t.prefix);
    providerMetrics.record({ kind: "submit" }, { httpStatus: 200, durationMs: 120 });
    providerMetrics.record({ kind: "submit" }, { httpStatus: 429, durationMs: 30, error: { code: "provider_rate_limited", retryAfterMs: 3_000 } });
    providerMetrics.record({ kind: "status" }, { httpStatus: 200, durationMs: 40 });
    await providerMetrics.close();

    const m = await waitFor(async () => {
      const parsed = await scrape(t);
      return parsed.find("acebatch_provider_calls_total").length === 3 ? parsed : undefined;
    });

    expect(m.value("acebatch_jobs", { status: "queued" })).toBe(2);
    expect(m.value("acebatch_jobs", { status: "completed" })).toBe(0);
    expect(m.value("acebatch_generations_in_flight")).toBe(0);
    expect(m.value("acebatch_queue_jobs", { queue: "generate", state: "waiting" })).toBe(2);
    for (const queue of Object.values(QUEUE_NAMES)) expect(m.find("acebatch_queue_jobs", { queue }).length).toBeGreaterThan(0);
    expect(m.value("acebatch_budget_usd", { scope: "global", kind: "limit" })).toBe(10);
    expect(m.value("acebatch_budget_usd", { scope: "global", kind: "spent" })).toBeCloseTo(0.018, 6);
    expect(m.value("acebatch_budget_usd", { scope: "global", kind: "remaining" })).toBeCloseTo(9.982, 6);
    expect(m.value("acebatch_spent_usd_total", { model: T2A })).toBeCloseTo(0.018, 6);
    expect(m.value("acebatch_settled_jobs_total", { model: T2A })).toBe(1);
    expect(m.value("acebatch_audio_seconds_total", { model: T2A })).toBe(90);
    expect(m.value("acebatch_batches")).toBe(0);
    expect(m.value("acebatch_schedules")).toBe(0);

    expect(m.types.get("acebatch_provider_calls_total")).toBe("counter");
    expect(m.value("acebatch_provider_calls_total", { endpoint: "submit", outcome: "ok" })).toBe(1);
    expect(m.value("acebatch_provider_calls_total", { endpoint: "submit", outcome: "provider_rate_limited" })).toBe(1);
    expect(m.value("acebatch_provider_throttled_total", { endpoint: "submit" })).toBe(1);
    expect(m.value("acebatch_provider_retry_after_total", { endpoint: "submit" })).toBe(1);
    expect(m.value("acebatch_provider_retry_after_seconds_total", { endpoint: "submit" })).toBe(3);
    expect(m.types.get("acebatch_provider_call_duration_seconds")).toBe("histogram");
    expect(m.value("acebatch_provider_call_duration_seconds_bucket", { endpoint: "submit", le: "0.05" })).toBe(1);
    expect(m.value("acebatch_provider_call_duration_seconds_bucket", { endpoint: "submit", le: "0.25" })).toBe(2);
    expect(m.value("acebatch_provider_call_duration_seconds_bucket", { endpoint: "submit", le: "+Inf" })).toBe(2);
    expect(m.value("acebatch_provider_call_duration_seconds_count", { endpoint: "submit" })).toBe(2);
    expect(m.value("acebatch_provider_call_duration_seconds_sum", { endpoint: "submit" })).toBeCloseTo(0.15, 6);

    expect(m.types.get("acebatch_http_request_duration_seconds")).toBe("histogram");
    expect(m.value("acebatch_http_request_duration_seconds_count", { method: "POST", route: "/v1/jobs", status_code: "202" })).toBe(2);
    expect(m.value("acebatch_http_request_duration_seconds_count", { method: "PUT", route: "/v1/budget", status_code: "200" })).toBe(1);
    expect(m.find("process_cpu_user_seconds_total").length).toBe(1);
    expect(m.find("nodejs_heap_size_used_bytes").length).toBe(1);
  });

  it("gives every app its own registry (no global default registry), and unmatched URLs one label", async () => {
    const one = await app();
    const two = await app();
    await one.call("GET", "/v1/budget");
    await one.call("GET", "/no/such/path/1", null);
    await one.call("GET", "/no/such/path/2", null);
    const m1 = await scrape(one);
    const m2 = await scrape(two);
    expect(m1.value("acebatch_http_request_duration_seconds_count", { route: "/v1/budget", status_code: "200" })).toBe(1);
    expect(m1.value("acebatch_http_request_duration_seconds_count", { route: "unmatched", status_code: "404" })).toBe(2);
    expect(m2.find("acebatch_http_request_duration_seconds_count", { route: "/v1/budget" })).toEqual([]);
  });
});
