import { deletePrefix, uniquePrefix } from "@acebatch/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createApiKeyStore, hashApiKey, LAST_USED_INTERVAL_MS, looksLikeApiKey } from "./api-keys.ts";
import { createKeys } from "./keys.ts";

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

    expect((await store.findBySecret(secret))?.id).toBe(record.id);
    expect(await store.findBySecret(`${secret}x`)).toBeNull();
  });

  it("marks a key used at most once per interval", async () => {
    const { store, advance } = makeStore();
    const { secret } = await store.create({ name: "a", scopes: ["admin"] });
    const first = await store.findBySecret(secret);
    expect(first?.last_used_at).toBeNull(); // the record as it was before this use
    const marked = (await store.findBySecret(secret))!.last_used_at;
    expect(marked).toBe("2026-03-01T12:00:00.000Z");
    advance(LAST_USED_INTERVAL_MS - 1);
    await store.findBySecret(secret);
    expect((await store.findBySecret(secret))!.last_used_at).toBe(marked);
    advance(1);
    await store.findBySecret(secret);
    expect((await store.findBySecret(secret))!.last_used_at).toBe("2026-03-01T12:01:00.000Z");
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
  });
});
