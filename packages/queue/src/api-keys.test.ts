import { setTimeout as sleep } from "node:timers/promises";
import { deletePrefix, uniquePrefix } from "@acebatch/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createApiKeyStore, hashApiKey, LAST_USED_INTERVAL_MS, looksLikeApiKey } from "./api-keys.ts";
import { createKeys } from "./keys.ts";
import { createRateCounter } from "./rate-window.ts";

let redis: Redis;
const prefixes: string[] = [];
beforeAll(() => {
  redis = new Redis(inject("redisUrl"));
});
afterAll(async () => {
  for (const prefix of prefixes) await deletePrefix(redis, prefix);
  await redis.quit();
});

function makeStore(start = Date.parse("2026-03-01T12:00:00Z")) {
  const prefix = uniquePrefix("apikeys");
  prefixes.push(prefix);
  let nowMs = start;
  const store = createApiKeyStore({ redis, prefix, now: () => new Date(nowMs) });
  return { store, prefix, advance: (ms: number) => (nowMs += ms) };
}

describe("API key store", () => {
  it("keeps only the SHA-256 of the secret and finds the key by it", async () => {
    const { store, prefix } = makeStore();
    const { record, secret } = await store.create({ name: "ci", scopes: ["jobs:read"] });
    expect(secret).toMatch(/^ak_[A-Za-z0-9_-]{43}$/);
    expect(looksLikeApiKey(secret)).toBe(true);
    expect(record).toMatchObject({ name: "ci", scopes: ["jobs:read"], key_hint: secret.slice(0, 7), revoked_at: null, last_used_at: null });

    // Nothing under the prefix holds the secret itself.
    const keys = await redis.keys(`${prefix}*`);
    for (const key of keys) {
      const type = await redis.type(key);
      const dump = type === "hash" ? JSON.stringify(await redis.hgetall(key)) : type === "string" ? String(await redis.get(key)) : JSON.stringify(await redis.zrange(key, "0", "-1"));
      expect(dump).not.toContain(secret);
    }
    expect(await redis.get(createKeys(prefix).apiKeyByHash(hashApiKey(secret)))).toBe(record.id);

    expect(await store.findBySecret(secret)).toEqual({ id: record.id, scopes: ["jobs:read"], rate_limit_per_minute: null, revoked_at: null });
    expect(await store.findBySecret(`${secret}x`)).toBeNull();
  });

  it("marks a key used at most once per interval", async () => {
    const { store, advance } = makeStore();
    const { record, secret } = await store.create({ name: "a", scopes: ["admin"] });
    const lastUsed = async () => (await store.get(record.id))!.last_used_at;
    expect(await lastUsed()).toBeNull();
    expect((await store.findBySecret(secret))?.id).toBe(record.id);
    const marked = await lastUsed();
    expect(marked).toBe("2026-03-01T12:00:00.000Z");
    advance(LAST_USED_INTERVAL_MS - 1);
    await store.findBySecret(secret);
    expect(await lastUsed()).toBe(marked);
    advance(1);
    await store.findBySecret(secret);
    expect(await lastUsed()).toBe("2026-03-01T12:01:00.000Z");
  });

  it("revokes once (the first time is kept), and a revoked key is no longer marked used", async () => {
    const { store, advance } = makeStore();
    const { record, secret } = await store.create({ name: "r", scopes: ["jobs:write"] });
    const revoked = await store.revoke(record.id);
    expect(revoked?.revoked_at).toBe("2026-03-01T12:00:00.000Z");
    advance(5_000);
    expect((await store.revoke(record.id))?.revoked_at).toBe("2026-03-01T12:00:00.000Z");
    expect((await store.findBySecret(secret))?.revoked_at).toBe("2026-03-01T12:00:00.000Z");
    expect((await store.get(record.id))?.last_used_at).toBeNull();
    expect(await store.revoke("key_missing")).toBeNull();
  });

  it("lists every key newest first, with budget and rate-limit settings", async () => {
    const { store, advance } = makeStore();
    const a = await store.create({ name: "a", scopes: ["jobs:read"], rate_limit_per_minute: 30 });
    advance(1_000);
    const b = await store.create({ name: "b", scopes: ["batches", "schedules"] });
    expect(await store.setHasBudget(b.record.id, true)).toBe(true);
    expect(await store.setHasBudget("key_missing", true)).toBe(false);
    const list = await store.list();
    expect(list.map((k) => k.id)).toEqual([b.record.id, a.record.id]);
    expect(list[0]).toMatchObject({ has_budget: true, rate_limit_per_minute: null });
    expect(list[1]).toMatchObject({ has_budget: false, rate_limit_per_minute: 30 });
    // The lookup behind every request reads the same settings.
    expect(await store.findBySecret(a.secret)).toMatchObject({ scopes: ["jobs:read"], rate_limit_per_minute: 30 });
  });
});

function freshPrefix(): string {
  const prefix = uniquePrefix("ratewin");
  prefixes.push(prefix);
  return prefix;
}

describe("request counting in rate windows", () => {
  it("count each client's requests in a fixed window that starts with its first request and then expires", async () => {
    const prefix = freshPrefix();
    const counter = createRateCounter({ redis, prefix });
    const first = await counter.hit("ip:10.0.0.1", 300);
    expect(first.count).toBe(1);
    expect(first.resetInMs).toBeGreaterThan(200);
    expect(first.resetInMs).toBeLessThanOrEqual(300);
    expect((await counter.hit("ip:10.0.0.1", 300)).count).toBe(2);
    expect((await counter.hit("ip:10.0.0.2", 300)).count).toBe(1);

    // The window does not slide: later requests do not extend it.
    const later = await counter.hit("ip:10.0.0.1", 300);
    expect(later.count).toBe(3);
    expect(later.resetInMs).toBeLessThanOrEqual(first.resetInMs);
    expect(await redis.pttl(createKeys(prefix).rateLimit("ip:10.0.0.1"))).toBeGreaterThan(0);

    await sleep(later.resetInMs + 50);
    expect((await counter.hit("ip:10.0.0.1", 300)).count).toBe(1);
  });

  it("a stored key's lookup counts the request in the key's own window, in the same script", async () => {
    const prefix = freshPrefix();
    const keys = createApiKeyStore({ redis, prefix });
    const counter = createRateCounter({ redis, prefix });
    const { record, secret } = await keys.create({ name: "client", scopes: ["jobs:write"] });

    const one = await keys.findBySecretCounting(secret, 60_000);
    expect(one?.key).toEqual({ id: record.id, scopes: ["jobs:write"], rate_limit_per_minute: null, revoked_at: null });
    expect(one?.window).toMatchObject({ count: 1 });
    expect((await keys.findBySecretCounting(secret, 60_000))?.window?.count).toBe(2);
    // The same counter as any other way of counting this key.
    expect((await counter.hit(`key:${record.id}`, 60_000)).count).toBe(3);
    // A plain lookup does not count.
    await keys.findBySecret(secret);
    expect(await redis.get(createKeys(prefix).rateLimit(`key:${record.id}`))).toBe("3");

    // A revoked key is found (the caller refuses it) but not counted; an unknown secret is neither.
    await keys.revoke(record.id);
    const revoked = await keys.findBySecretCounting(secret, 60_000);
    expect(revoked?.key.revoked_at).not.toBeNull();
    expect(revoked?.window).toBeNull();
    expect(await redis.get(createKeys(prefix).rateLimit(`key:${record.id}`))).toBe("3");
    expect(await keys.findBySecretCounting(`${secret}x`, 60_000)).toBeNull();
    await expect(keys.findBySecretCounting(secret, 0)).rejects.toThrow(/windowMs must be positive/);
  });
});
