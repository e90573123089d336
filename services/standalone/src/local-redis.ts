import { spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { closeRedis, createRedis, redisIsReachable } from "@acebatch/queue";
import type { Logger } from "@acebatch/config";

const HOW_TO_GET_REDIS =
  "Install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to a reachable Redis 7 server.";

/** Whether a Redis answers at `url` within a short time. */
export async function probeRedis(url: string): Promise<boolean> {
  const redis = createRedis(url, "producer", { retryStrategy: () => null, connectTimeout: 1_500, lazyConnect: true });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    return await redisIsReachable(redis, 1_500);
  } catch {
    return false;
  } finally {
    await closeRedis(redis, 500);
  }
}

/**
 * Start a private `redis-server` (AOF on, noeviction, data under `dataDir/redis`) on the port of
 * `url`, for `pnpm start` when no Redis answers there.
 */
export async function startLocalRedis(url: string, dataDir: string, logger: Logger): Promise<{ stop(): Promise<void> }> {
  const parsed = new URL(url);
  if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(parsed.hostname)) {
    throw new Error(`No Redis answers at ${url}, and it is not on this machine, so none can be started for it. ${HOW_TO_GET_REDIS}`);
  }
  const dir = resolve(join(dataDir, "redis"));
  await mkdir(dir, { recursive: true });
  const port = parsed.port || "6379";
  const args = ["--port", port, "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--maxmemory-policy", "noeviction"];
  let child: ChildProcess;
  try {
    child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    throw new Error(`Could not start redis-server: ${(err as Error).message}. ${HOW_TO_GET_REDIS}`);
  }
  await new Promise<void>((resolveReady, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not become ready in 10 s:\n${output}`)), 10_000);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`Could not start redis-server (${err.message}). ${HOW_TO_GET_REDIS}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with code ${code}:\n${output}`));
    });
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolveReady();
      }
    });
  });
  logger.info({ port, dir }, "started a local redis-server (AOF on) because none answered at REDIS_URL");
  return {
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    },
  };
}
