import { existsSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import { freePort } from "./free-port.ts";
import { RedisNotFoundError, spawnRedis, type SpawnedRedis } from "./spawned-redis.ts";

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("spawnRedis", () => {
  const servers: SpawnedRedis[] = [];
  const clients: Redis[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    clients.splice(0).forEach((c) => c.disconnect());
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  const start = async (): Promise<SpawnedRedis> => {
    const server = await spawnRedis();
    servers.push(server);
    return server;
  };
  const connect = (url: string): Redis => {
    const client = new Redis(url, { retryStrategy: () => 50, maxRetriesPerRequest: null });
    clients.push(client);
    return client;
  };

  it("answers PING on 127.0.0.1 with AOF on and noeviction", async () => {
    const server = await start();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const redis = connect(server.url);
    expect(await redis.ping()).toBe("PONG");
    expect(await redis.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
    expect(await redis.config("GET", "appendonly")).toEqual(["appendonly", "yes"]);
    expect(await redis.config("GET", "save")).toEqual(["save", ""]);
  });

  it("keeps AOF data across a graceful restart on the same port", async () => {
    const server = await start();
    const redis = connect(server.url);
    await redis.set("survivor", "still here");
    const oldPid = server.pid;

    await server.restart();

    expect(server.pid).not.toBe(oldPid);
    expect(server.running).toBe(true);
    // The same client reconnects to the same address by itself.
    expect(await redis.get("survivor")).toBe("still here");
    expect(server.output()).toMatch(/DB loaded from append only file/);
  });

  it("keeps acknowledged writes across a SIGKILL crash (AOF written before the reply)", async () => {
    const server = await start();
    const redis = connect(server.url);
    await redis.set("acked", "1");

    await server.down({ signal: "SIGKILL" });
    expect(server.running).toBe(false);
    expect(await listening(server.port)).toBe(false);

    await server.up();
    expect(await redis.get("acked")).toBe("1");
  });

  it("stop() shuts it down and removes its temp dir", async () => {
    const server = await spawnRedis();
    expect(existsSync(server.dir)).toBe(true);
    await server.stop();
    expect(existsSync(server.dir)).toBe(false);
    expect(await listening(server.port)).toBe(false);
    await server.stop(); // idempotent
  });

  it("two spawned servers are independent", async () => {
    const [one, two] = await Promise.all([start(), start()]);
    expect(one.port).not.toBe(two.port);
    await connect(one.url).set("k", "one");
    expect(await connect(two.url).get("k")).toBeNull();
  });

  it("uses a requested port and fails clearly when it is taken", async () => {
    const port = await freePort();
    const first = await spawnRedis({ port });
    servers.push(first);
    expect(first.port).toBe(port);
    await expect(spawnRedis({ port })).rejects.toThrow(/exited before it was ready[\s\S]*in use/i);
  });

  it("says how to get Redis when the binary is missing", async () => {
    vi.stubEnv("REDIS_SERVER_BIN", "/nonexistent/redis-server");
    const err: unknown = await spawnRedis().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisNotFoundError);
    expect(String(err)).toMatch(/apt-get install -y redis-server/);
    expect(String(err)).toMatch(/REDIS_URL=/);
  });
});
