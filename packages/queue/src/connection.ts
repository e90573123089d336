import { setImmediate } from "node:timers";
import { Redis, type RedisOptions } from "ioredis";

/**
 * Redis connections by role. Workers block on Redis and must retry forever
 * (`maxRetriesPerRequest: null`, which BullMQ requires); producers sit in the HTTP path and must
 * fail fast so the API can answer 503 instead of hanging while Redis is down. Workers and
 * producers coalesce their writes (below); subscribers only listen.
 */
export type RedisRole = "worker" | "producer" | "subscriber";

export function createRedis(url: string, role: RedisRole, overrides: RedisOptions = {}): Redis {
  const common: RedisOptions = {
    connectTimeout: 5_000,
    lazyConnect: false,
    // Reconnect forever with a capped backoff: a Redis restart must never need a process restart.
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 3_000),
  };
  const byRole: Record<RedisRole, RedisOptions> = {
    worker: { maxRetriesPerRequest: null, enableOfflineQueue: true },
    subscriber: { maxRetriesPerRequest: null, enableOfflineQueue: true },
    producer: { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 5_000 },
  };
  const redis = new Redis(url, { ...common, ...byRole[role], ...overrides });
  if (role !== "subscriber") coalesceWrites(redis);
  return redis;
}

/**
 * Send every command issued during one turn of the event loop in one socket write: the socket is
 * corked at the turn's first command and uncorked in that turn's check phase (`setImmediate`), so
 * a busy API or worker pays one write, and Redis one read, per turn instead of per command. Unlike
 * ioredis auto-pipelining it builds no pipeline object, and replies, ordering, timeouts and
 * reconnects are ioredis's own. Measured on the 2-core bench machine: Redis CPU per API submit
 * 112 → ~78 µs and the API's 192 → ~172 µs; per end-to-end job the worker's ~4% and Redis's ~12%
 * lower than with auto-pipelining; ingest unchanged (auto-pipelining had slowed it to 1.82×).
 */
function coalesceWrites(redis: Redis): void {
  const send = redis.sendCommand.bind(redis);
  let corked = false;
  redis.sendCommand = (command, stream) => {
    const socket = redis.stream;
    if (!corked && redis.status === "ready" && socket?.writable) {
      corked = true;
      socket.cork();
      setImmediate(() => {
        corked = false;
        socket.uncork();
      });
    }
    return send(command, stream);
  };
}

/** Close a connection, never hanging on an unreachable server. */
export async function closeRedis(redis: Redis, timeoutMs = 2_000): Promise<void> {
  if (redis.status === "end") return;
  const timer = setTimeout(() => redis.disconnect(), timeoutMs);
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

/** Whether Redis answers a PING within `timeoutMs`. */
export async function redisIsReachable(redis: Redis, timeoutMs = 1_000): Promise<boolean> {
  if (redis.status !== "ready") return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const pong = await Promise.race([
      redis.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("ping timed out")), timeoutMs);
      }),
    ]);
    return pong === "PONG";
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether an error means Redis could not be reached (answer 503, not 500). */
export function isRedisUnavailableError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === "MaxRetriesPerRequestError" ||
    /enableOfflineQueue|Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|Stream isn't writeable|connect ETIMEDOUT/i.test(err.message)
  );
}

/** Resolve once the connection is ready; reject after `timeoutMs` with a message naming the URL's host. */
export function redisReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      reject(new Error(`Redis at ${redis.options.host}:${redis.options.port} did not become ready within ${timeoutMs} ms; check REDIS_URL`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once("ready", onReady);
  });
}
