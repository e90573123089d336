import { uniquePrefix } from "@acebatch/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDeliveryStore, type NewDelivery } from "./delivery-store.ts";
import { webhookKeys } from "./keys.ts";

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await redis.quit();
});

let n = 0;
const makeDelivery = (overrides: Partial<NewDelivery> = {}): NewDelivery => ({
  id: `msg_test${++n}`,
  event_id: "evt_test",
  event_type: "job.completed",
  subject_id: "job_1",
  endpoint_id: null,
  url: "https://hooks.example/x",
  body: '{"type":"job.completed"}',
  created_at: new Date().toISOString(),
  ...overrides,
});

describe("delivery store", () => {
  it("creates a delivery once and keeps the first body", async () => {
    const store = createDeliveryStore({ redis, prefix: uniquePrefix("dlv-create") });
    const d = makeDelivery();
    expect((await store.createIfAbsent(d)).created).toBe(true);
    const again = await store.createIfAbsent({ ...d, body: "{}" });
    expect(again.created).toBe(false);
    expect(again.record).toMatchObject({ id: d.id, body: d.body, status: "pending", attempts: 0, replays: 0, endpoint_id: null });
    expect((await store.list("pending", 10)).records.map((r) => r.id)).toEqual([d.id]);
  });

  it("counts attempts, lists dead deliveries, and replays them", async () => {
    const prefix = uniquePrefix("dlv-dead");
    const store = createDeliveryStore({ redis, prefix });
    const d = makeDelivery();
    await store.createIfAbsent(d);
    await store.recordAttempt(d.id, { outcome: "retry", statusCode: 500, error: "HTTP 500", at: new Date(), nextAttemptAt: new Date(Date.now() + 5_000) });
    expect(await store.get(d.id)).toMatchObject({ status: "pending", attempts: 1, last_status_code: 500, last_error: "HTTP 500" });
    await store.recordAttempt(d.id, { outcome: "dead", statusCode: 503, error: "HTTP 503", at: new Date() });
    expect(await store.get(d.id)).toMatchObject({ status: "dead", attempts: 2, last_status_code: 503, next_attempt_at: null });
    expect((await store.list("dead", 10)).records.map((r) => r.id)).toEqual([d.id]);
    expect((await store.list("pending", 10)).records).toEqual([]);
    // A late attempt of a finished delivery changes nothing.
    expect(await store.recordAttempt(d.id, { outcome: "delivered", statusCode: 200, error: null, at: new Date() })).toBe(false);

    expect(await store.replay(d.id)).toEqual({ ok: true, replay: 1 });
    expect(await store.replay(d.id)).toEqual({ ok: false, reason: "pending" });
    expect(await store.replay("msg_missing")).toEqual({ ok: false, reason: "missing" });
    expect((await store.list("dead", 10)).records).toEqual([]);
    await store.recordAttempt(d.id, { outcome: "delivered", statusCode: 204, error: null, at: new Date() });
    expect(await store.get(d.id)).toMatchObject({ status: "delivered", attempts: 3, replays: 1, dead_at: null });
    // Delivered records are kept a week for inspection, then expire.
    expect(await redis.ttl(webhookKeys(prefix).delivery(d.id))).toBeGreaterThan(6 * 86_400);
  });

  it("pages newest first", async () => {
    const store = createDeliveryStore({ redis, prefix: uniquePrefix("dlv-page") });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = makeDelivery({ created_at: new Date(Date.now() + i * 1_000).toISOString() });
      ids.push(d.id);
      await store.createIfAbsent(d);
    }
    const first = await store.list("pending", 3);
    expect(first.records.map((r) => r.id)).toEqual(ids.slice(2).reverse());
    expect(first.nextOffset).toBe(3);
    const second = await store.list("pending", 3, first.nextOffset!);
    expect(second.records.map((r) => r.id)).toEqual(ids.slice(0, 2).reverse());
    expect(second.nextOffset).toBeNull();
  });
});
