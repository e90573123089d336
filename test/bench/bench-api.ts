import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "@acebatch/api";
import { createLogger, logDestination } from "@acebatch/config";
import { createQueues, createRedis, redisReady } from "@acebatch/queue";
import { createLocalStorage, createUrlSigner } from "@acebatch/storage";
import { uniquePrefix } from "@acebatch/testing";

export const BENCH_API_KEY = "bench-admin-key-0123456789abcdef";

/** The API's logger in benches: as deployed (level info: an access line per request; the default writer), into /dev/null. */
export const benchApiLogger = () => createLogger({ name: "api", level: "info" }, logDestination("/dev/null"));

/**
 * The API as main.ts builds it (one fail-fast connection for records, queue and rate-limit
 * counters), listening on a free port.
 */
export async function startBenchApi(redisUrl: string, label: string) {
  const prefix = uniquePrefix(label);
  const producer = createRedis(redisUrl, "producer");
  await redisReady(producer);
  const queues = createQueues(producer, { prefix, maxAttempts: 5 });
  const dir = await mkdtemp(join(tmpdir(), `acebatch-${label}-`));
  const app = await buildApp({
    redis: producer,
    queues,
    storage: createLocalStorage({ root: dir }),
    signer: createUrlSigner("b".repeat(32)),
    logger: benchApiLogger(),
    config: { prefix, adminKey: BENCH_API_KEY, publicBaseUrl: "http://127.0.0.1:8080", bodyLimitBytes: 1_048_576 },
  });
  const apiUrl = await app.listen({ port: 0, host: "127.0.0.1" });
  return { app, apiUrl, producer, queues, prefix, dir };
}
