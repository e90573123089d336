import { redisUrlFromEnv } from "./env.ts";
import { spawnRedis, type SpawnedRedis } from "./spawned-redis.ts";

/** A Redis for tests, wherever it came from. */
export interface TestRedis {
  readonly url: string;
  /** env: REDIS_URL (stop() leaves it alone); testcontainers: a redis:7 container; spawned: a local redis-server. */
  readonly source: "env" | "testcontainers" | "spawned";
  /** Release the Redis this call started (never touches a REDIS_URL one). */
  stop(): Promise<void>;
  /** Present only for the spawned kind: stop and start again on the same port with the AOF kept. */
  restart?: SpawnedRedis["restart"];
}

export interface StartTestRedisOptions {
  /**
   * Chaos tests: always a private spawned redis-server that can be taken down and restarted
   * (REDIS_URL and containers are skipped: neither can be restarted on the same address).
   */
  restartable?: boolean;
  /** How long the container runtime probe may take, in milliseconds (default 3 000). */
  runtimeProbeTimeoutMs?: number;
}

/**
 * A Redis for tests: REDIS_URL if set; else a redis:7 container when a container runtime answers;
 * else a local redis-server on a free port in a temp dir; else a RedisNotFoundError saying how to
 * get Redis.
 */
export function startTestRedis(options: StartTestRedisOptions & { restartable: true }): Promise<SpawnedRedis>;
export function startTestRedis(options?: StartTestRedisOptions): Promise<TestRedis>;
export async function startTestRedis(options: StartTestRedisOptions = {}): Promise<TestRedis> {
  if (options.restartable === true) return spawnRedis();

  const fromEnv = redisUrlFromEnv();
  if (fromEnv !== undefined) return { url: fromEnv, source: "env", stop: async () => {} };

  const container = await tryTestcontainers(options.runtimeProbeTimeoutMs ?? 3_000);
  if (container !== undefined) return container;

  return spawnRedis();
}

async function tryTestcontainers(probeTimeoutMs: number): Promise<TestRedis | undefined> {
  // Imported lazily: most runs here have no container runtime and never need the module.
  const tc = await import("testcontainers");
  try {
    // Without a runtime this throws at once with "Could not find a working container runtime
    // strategy"; the deadline covers a socket that exists but never answers.
    await withTimeout(tc.getContainerRuntimeClient(), probeTimeoutMs, "the container runtime probe");
  } catch {
    return undefined;
  }
  try {
    const started = await new tc.GenericContainer("redis:7")
      .withCommand(["redis-server", "--save", "", "--appendonly", "yes", "--maxmemory-policy", "noeviction"])
      .withExposedPorts(6379)
      .withWaitStrategy(tc.Wait.forLogMessage(/Ready to accept connections/))
      .withStartupTimeout(120_000)
      .start();
    return {
      url: `redis://${started.getHost()}:${started.getMappedPort(6379)}`,
      source: "testcontainers",
      stop: async () => {
        await started.stop();
      },
    };
  } catch (err) {
    // A runtime that answers but cannot pull or run the image (offline, rootless quirks): fall
    // back to a local redis-server rather than failing the whole run.
    console.warn(`[acebatch/testing] testcontainers could not start redis:7, falling back to redis-server: ${String(err)}`);
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
