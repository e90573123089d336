import { Redis } from "ioredis";
import { afterEach, describe, expect, inject, it } from "vitest";
import { deletePrefix } from "./delete-prefix.ts";
import { uniquePrefix } from "./unique-prefix.ts";

describe("uniquePrefix", () => {
  it("is a hash tag of letters, digits, - and _ only", () => {
    const prefix = uniquePrefix("budget ledger: {weird}/label");
    expect(prefix).toMatch(/^\{t-[A-Za-z0-9_-]+\}$/);
    expect(prefix).toContain("budget-ledger-weird-label");
  });

  it("differs for the same label", () => {
    const seen = new Set(Array.from({ length: 1000 }, () => uniquePrefix("same")));
    expect(seen.size).toBe(1000);
  });

  it("copes with an empty or very long label", () => {
    expect(uniquePrefix("")).toMatch(/^\{t-x-[0-9a-f]{12}\}$/);
    expect(uniquePrefix("a".repeat(500)).length).toBeLessThan(70);
  });
});

describe("two prefixes on the run's Redis", () => {
  const clients: Redis[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.quit()));
  });

  it("do not collide, and deletePrefix removes only its own keys", async () => {
    const redis = new Redis(inject("redisUrl"));
    clients.push(redis);
    const a = uniquePrefix("collide");
    const b = uniquePrefix("collide");
    await redis.set(`${a}:job:1`, "from a");
    await redis.set(`${b}:job:1`, "from b");
    await redis.set(`${a}:job:2`, "from a");

    expect(await redis.get(`${a}:job:1`)).toBe("from a");
    expect(await redis.get(`${b}:job:1`)).toBe("from b");

    expect(await deletePrefix(redis, a)).toBe(2);
    expect(await redis.exists(`${a}:job:1`, `${a}:job:2`)).toBe(0);
    expect(await redis.get(`${b}:job:1`)).toBe("from b");
    expect(await deletePrefix(redis, b)).toBe(1);
  });
});
