import { createLedger } from "@acebatch/ledger";
import { createJobStore } from "@acebatch/queue";
import { afterEach, describe, expect, inject, it } from "vitest";
import { makeTestApp, TEST_ADMIN_KEY, type TestApp } from "../test-app.ts";

const T2A = "acestep-ai/ace-step/text-to-audio";
const apps: TestApp[] = [];
async function app(options: Partial<Parameters<typeof makeTestApp>[0]> = {}) {
  const t = await makeTestApp({ label: "keys", redisUrl: inject("redisUrl"), ...options });
  apps.push(t);
  return t;
}
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

describe("/v1/keys", () => {
  it("creates a key whose secret is shown once, works at once, and is listed without it", async () => {
    const t = await app();
    const res = await t.call("POST", "/v1/keys", TEST_ADMIN_KEY, { name: "ci runner", scopes: ["jobs:write", "jobs:read"] });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({ id: expect.stringMatching(/^key_/), name: "ci runner", scopes: ["jobs:write", "jobs:read"], budget: null, revoked_at: null });
    expect(created.key).toMatch(/^ak_/);

    expect((await t.call("POST", "/v1/jobs", created.key, { model: T2A, input: { tags: "lo-fi" } })).statusCode).toBe(202);
    expect((await t.call("GET", "/v1/jobs", created.key)).statusCode).toBe(200);
    expect((await t.call("GET", "/v1/budget", created.key)).statusCode).toBe(200);
    expect((await t.call("PUT", "/v1/budget", created.key, { limit_usd: 1 })).statusCode).toBe(403);
    expect((await t.call("GET", "/v1/keys", created.key)).statusCode).toBe(403);

    const list = await t.call("GET", "/v1/keys");
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(created.key);
    const listed = list.json().data.find((k: { id: string }) => k.id === created.id);
    expect(listed).toMatchObject({ name: "ci runner", key_hint: created.key.slice(0, 7), revoked_at: null });
    expect(listed.last_used_at).toEqual(expect.any(String));
    expect(listed).not.toHaveProperty("key");
    expect((await t.call("GET", `/v1/keys/${created.id}`)).json().id).toBe(created.id);
  });

  it("refuses a revoked key at once, in every API process", async () => {
    const one = await app();
    const two = await app({ prefix: one.prefix });
    const { id, key } = await one.createKey(["jobs:read"]);
    expect((await two.call("GET", "/v1/jobs", key)).statusCode).toBe(200);

    const revoked = await one.call("DELETE", `/v1/keys/${id}`);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revoked_at).toEqual(expect.any(String));

    for (const t of [one, two]) {
      const res = await t.call("GET", "/v1/jobs", key);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe("key_revoked");
    }
    expect((await one.call("DELETE", "/v1/keys/key_00000000000000000000000000")).statusCode).toBe(404);
    expect((await one.call("GET", "/v1/keys/key_00000000000000000000000000")).statusCode).toBe(404);
  });

  it("answers 401 for unknown keys and 400 naming every bad field", async () => {
    const t = await app();
    expect((await t.call("GET", "/v1/jobs", "ak_notARealKeyAtAll0123456789")).json().error.code).toBe("unauthorized");
    const bad = await t.call("POST", "/v1/keys", TEST_ADMIN_KEY, { name: "", scopes: ["jobs:write", "root"], rate_limit_per_minute: 0, colour: "red" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.map((d: { path: string }) => d.path).sort()).toEqual(["colour", "name", "rate_limit_per_minute", "scopes.1"]);
    expect((await t.call("POST", "/v1/keys", TEST_ADMIN_KEY, { name: "x", scopes: [] })).statusCode).toBe(400);
  });

  it("lets an admin-scoped stored key manage keys, and admin implies every scope", async () => {
    const t = await app();
    const admin = await t.createKey(["admin"]);
    const res = await t.call("POST", "/v1/keys", admin.key, { name: "made by a stored admin", scopes: ["schedules"] });
    expect(res.statusCode).toBe(201);
    expect((await t.call("PUT", "/v1/budget", admin.key, { limit_usd: 5 })).statusCode).toBe(200);
  });

  it("sets a per-key budget on the ledger and tags the key's jobs with key_id", async () => {
    const t = await app();
    const created = await t.createKey(["jobs:write"], { budget: { limit_usd: 2.5, period: "day", timezone: "Europe/Berlin" } });
    expect(created.budget).toMatchObject({ limit_usd: 2.5, period: "day", timezone: "Europe/Berlin", spent_usd: 0, remaining_usd: 2.5 });
    const ledger = createLedger({ redis: t.redis, prefix: t.prefix });
    expect((await ledger.getBudget({ kind: "key", id: created.id })).limitMicroUsd).toBe(2_500_000);

    const changed = await t.call("PUT", `/v1/keys/${created.id}/budget`, TEST_ADMIN_KEY, { limit_usd: null, period: "none" });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().budget).toMatchObject({ limit_usd: null, period: "none" });

    const store = createJobStore({ redis: t.redis, prefix: t.prefix });
    const byKey = (await t.call("POST", "/v1/jobs", created.key, { model: T2A, input: { tags: "a" } })).json();
    const byAdmin = (await t.call("POST", "/v1/jobs", TEST_ADMIN_KEY, { model: T2A, input: { tags: "b" } })).json();
    expect((await store.get(byKey.id))?.key_id).toBe(created.id);
    expect((await store.get(byAdmin.id))?.key_id).toBeNull();

    // A batch's jobs carry the uploading key too, so its budget covers bulk work as well.
    const batcher = await t.createKey(["batches"]);
    const combos = { model: T2A, input: { duration: 5 }, axes: { genre: ["house", "jazz"] }, variations: 2 };
    const batch = await t.call("POST", "/v1/batches", batcher.key, combos);
    expect(batch.statusCode).toBe(201);
    const batchJobs = await t.call("GET", `/v1/jobs?batch_id=${batch.json().id}&limit=10`, TEST_ADMIN_KEY);
    const ids = batchJobs.json().data.map((j: { id: string }) => j.id);
    expect(ids).toHaveLength(4);
    for (const rec of await store.getMany(ids)) expect(rec?.key_id).toBe(batcher.id);
  });
});

describe("per-key rate limiting", () => {
  it("answers 429 with Retry-After in our error format once a key's per-minute limit is spent, across processes", async () => {
    const one = await app();
    const two = await app({ prefix: one.prefix });
    const slow = await one.createKey(["jobs:read"], { rate_limit_per_minute: 3 });
    const other = await one.createKey(["jobs:read"], { rate_limit_per_minute: 3 });

    const first = await one.call("GET", "/v1/jobs", slow.key);
    expect(first.statusCode).toBe(200);
    expect(first.headers).toMatchObject({ "x-ratelimit-limit": "3", "x-ratelimit-remaining": "2" });
    expect(Number(first.headers["x-ratelimit-reset"])).toBeGreaterThan(0);
    expect(Number(first.headers["x-ratelimit-reset"])).toBeLessThanOrEqual(60);
    expect((await two.call("GET", "/v1/jobs", slow.key)).statusCode).toBe(200);
    const third = await one.call("GET", "/v1/budget", slow.key);
    expect(third.statusCode).toBe(200);
    expect(third.headers["x-ratelimit-remaining"]).toBe("0");
    const limited = await two.call("GET", "/v1/jobs", slow.key);
    expect(limited.statusCode).toBe(429);
    const retryAfter = Number(limited.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.json()).toEqual({ error: { code: "rate_limited", message: expect.stringMatching(/limit is 3 per minute/), details: [] } });

    // Another key has its own budget of requests; the operator's admin key and the probes are never limited.
    expect((await two.call("GET", "/v1/jobs", other.key)).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await one.call("GET", "/v1/jobs", TEST_ADMIN_KEY)).statusCode).toBe(200);
    expect((await one.call("GET", "/healthz", null)).statusCode).toBe(200);
  });

  it("limits unauthenticated routes per client address with the default limit", async () => {
    const t = await app({ config: { rateLimitPerMinute: 2 } });
    expect((await t.call("GET", "/openapi.json", null)).statusCode).toBe(200);
    expect((await t.call("GET", "/openapi.json", null)).statusCode).toBe(200);
    const limited = await t.call("GET", "/openapi.json", null);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toBeDefined();
    for (let i = 0; i < 4; i++) expect((await t.call("GET", "/metrics", null)).statusCode).toBe(200);
    expect((await t.call("GET", "/no/such/path", null)).statusCode).toBe(404);
  });

  it("serves requests Redis cannot count, and warns once that they go uncounted", async () => {
    const t = await app({ captureLogs: true, config: { rateLimitPerMinute: 1 } });
    const counted = await t.call("GET", "/openapi.json", null);
    expect(counted.headers["x-ratelimit-remaining"]).toBe("0");
    t.redis.disconnect(); // the fail-fast connection now refuses every command
    const served = await t.call("GET", "/openapi.json", null);
    expect(served.statusCode).toBe(200);
    expect(served.headers["x-ratelimit-limit"]).toBeUndefined();
    expect((await t.call("GET", "/openapi.json", null)).statusCode).toBe(200);
    expect(t.logText().split("request not counted against its rate limit")).toHaveLength(2); // warned once, not per request
  });
});
