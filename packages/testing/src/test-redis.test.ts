import { Redis } from "ioredis";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { testRedisUrlFromEnv } from "./env.ts";
import { startTestRedis, type TestRedis } from "./test-redis.ts";

describe("the run's Redis (vitest global setup)", () => {
  it("is provided to test files and answers PING", async () => {
    const url = inject("redisUrl");
    expect(url).toMatch(/^rediss?:\/\//);
    expect(["env", "testcontainers", "spawned"]).toContain(inject("redisSource"));
    const redis = new Redis(url);
    try {
      expect(await redis.ping()).toBe("PONG");
    } finally {
      redis.disconnect();
    }
  });

  it("is also in ACEBATCH_TEST_REDIS_URL", () => {
    expect(testRedisUrlFromEnv()).toBe(inject("redisUrl"));
  });
});

describe("startTestRedis", () => {
  const started: TestRedis[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(started.splice(0).map((r) => r.stop()));
  });

  it("uses REDIS_URL when it is set, and stop() leaves that Redis alone", async () => {
    vi.stubEnv("REDIS_URL", inject("redisUrl"));
    const redis = await startTestRedis();
    started.push(redis);
    expect(redis).toMatchObject({ url: inject("redisUrl"), source: "env" });
    expect(redis.restart).toBeUndefined();
    await redis.stop();
    const client = new Redis(inject("redisUrl"));
    try {
      expect(await client.ping()).toBe("PONG");
    } finally {
      client.disconnect();
    }
  });

  it("without REDIS_URL starts its own Redis quickly, even with no container runtime", async () => {
    vi.stubEnv("REDIS_URL", "");
    const t0 = Date.now();
    const redis = await startTestRedis();
    started.push(redis);
    expect(redis.url).not.toBe(inject("redisUrl"));
    if (redis.source === "spawned") expect(Date.now() - t0).toBeLessThan(10_000);
    const client = new Redis(redis.url);
    try {
      expect(await client.ping()).toBe("PONG");
    } finally {
      client.disconnect();
    }
  });

  it("restartable: always a private spawned Redis, even when REDIS_URL is set", async () => {
    vi.stubEnv("REDIS_URL", inject("redisUrl"));
    const redis = await startTestRedis({ restartable: true });
    started.push(redis);
    expect(redis.source).toBe("spawned");
    expect(redis.url).not.toBe(inject("redisUrl"));
    await redis.restart();
    expect(redis.running).toBe(true);
  });
});
