import { deletePrefix, uniquePrefix, waitFor } from "@acebatch/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { createProviderMetricsBuffer, PROVIDER_LATENCY_BUCKETS, readProviderMetrics } from "./provider-metrics.ts";

let redis: Redis;
const prefix = uniquePrefix("provider-metrics");
beforeAll(() => {
  redis = new Redis(inject("redisUrl"));
});
afterAll(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

it("sums provider calls from every process into one snapshot", async () => {
  // Two "workers" on their own connections, as in a cluster.
  const other = new Redis(inject("redisUrl"));
  const mine = createProviderMetricsBuffer(redis, prefix);
  const theirs = createProviderMetricsBuffer(other, prefix);
  mine.record({ kind: "submit" }, { httpStatus: 200, durationMs: 80 });
  theirs.record({ kind: "submit" }, { httpStatus: 429, durationMs: 20, error: { code: "provider_rate_limited", retryAfterMs: 2_500 } });
  mine.record({ kind: "status" }, { httpStatus: 200, durationMs: 45_000 });
  theirs.record({ kind: "result" }, { httpStatus: null, durationMs: 300, error: { code: "provider_timeout" } });
  await Promise.all([mine.close(), theirs.close()]);

  const snapshot = await waitFor(async () => {
    const s = await readProviderMetrics(redis, prefix);
    return s.calls.reduce((n, c) => n + c.count, 0) === 4 ? s : undefined;
  });
  await other.quit();

  expect(snapshot.calls).toEqual(
    expect.arrayContaining([
      { endpoint: "submit", outcome: "ok", count: 1 },
      { endpoint: "submit", outcome: "provider_rate_limited", count: 1 },
      { endpoint: "status", outcome: "ok", count: 1 },
      { endpoint: "result", outcome: "provider_timeout", count: 1 },
    ]),
  );
  expect(snapshot.throttled).toEqual([{ endpoint: "submit", count: 1 }]);
  expect(snapshot.retryAfter).toEqual([{ endpoint: "submit", count: 1, seconds: 2.5 }]);
  const submit = snapshot.latency.find((l) => l.endpoint === "submit")!;
  expect(submit.sumSeconds).toBeCloseTo(0.1, 6);
  expect(submit.buckets[PROVIDER_LATENCY_BUCKETS.indexOf(0.05)]).toBe(1); // 20 ms
  expect(submit.buckets[PROVIDER_LATENCY_BUCKETS.indexOf(0.1)]).toBe(1); // 80 ms
  const status = snapshot.latency.find((l) => l.endpoint === "status")!;
  expect(status.buckets.at(-1)).toBe(1); // 45 s is past the last bound: +Inf
});

it("never throws, even on a closed connection", () => {
  const closed = new Redis(inject("redisUrl"), { lazyConnect: true, enableOfflineQueue: false });
  closed.disconnect();
  const buffer = createProviderMetricsBuffer(closed, prefix);
  expect(() => buffer.record({ kind: "submit" }, { httpStatus: 200, durationMs: 1 })).not.toThrow();
  return expect(buffer.close()).resolves.toBeUndefined();
});

it("a buffer sums calls in the process and writes them on flush, keeping counts a failed flush could not write", async () => {
  const bufferPrefix = uniquePrefix("provider-metrics-buffer");
  const broken = new Redis(inject("redisUrl"), { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  const buffer = createProviderMetricsBuffer(broken, bufferPrefix, { flushIntervalMs: 60_000 });
  for (let i = 0; i < 3; i++) buffer.record({ kind: "status" }, { httpStatus: 200, durationMs: 10 });
  await buffer.flush(); // not connected: nothing written, nothing lost
  expect((await readProviderMetrics(redis, bufferPrefix)).calls).toEqual([]);

  // The failed flush made the lazy connection start connecting: wait until it is up.
  if (broken.status !== "ready") await new Promise((resolve) => broken.once("ready", resolve));
  buffer.record({ kind: "status" }, { httpStatus: 429, durationMs: 10, error: { code: "provider_rate_limited", retryAfterMs: 1_000 } });
  await buffer.close();
  const snapshot = await readProviderMetrics(redis, bufferPrefix);
  expect(snapshot.calls).toEqual(
    expect.arrayContaining([
      { endpoint: "status", outcome: "ok", count: 3 },
      { endpoint: "status", outcome: "provider_rate_limited", count: 1 },
    ]),
  );
  expect(snapshot.latency.find((l) => l.endpoint === "status")!.buckets[0]).toBe(4);
  expect(snapshot.throttled).toEqual([{ endpoint: "status", count: 1 }]);
  await deletePrefix(redis, bufferPrefix);
  broken.disconnect();
});
