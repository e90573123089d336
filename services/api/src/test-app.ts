import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createLogger } from "@acebatch/config";
import { closeRedis, createQueues, createRedis, redisReady } from "@acebatch/queue";
import { createLocalStorage, createUrlSigner } from "@acebatch/storage";
import { deletePrefix, uniquePrefix } from "@acebatch/testing";
import type { InjectOptions } from "fastify";
import { buildApp, type AppDeps } from "./app.ts";

export const TEST_ADMIN_KEY = "test-admin-key-0123456789";

export interface TestAppOptions {
  label: string;
  redisUrl: string;
  /** Capture every log line (level `trace`) instead of discarding them. */
  captureLogs?: boolean;
  config?: Partial<AppDeps["config"]>;
  /** Share another app's Redis prefix (two API processes of one deployment). */
  prefix?: string;
  /** The app's clock. */
  now?: () => Date;
  /** Replaces the app's remote source probe. */
  probeSourceSeconds?: AppDeps["probeSourceSeconds"];
}

/** A real app on a real Redis under a unique prefix, for tests of the API's cross-cutting plugins. */
export async function makeTestApp(options: TestAppOptions) {
  const prefix = options.prefix ?? uniquePrefix(options.label);
  const redis = createRedis(options.redisUrl, "producer");
  const queueRedis = createRedis(options.redisUrl, "worker");
  await redisReady(redis);
  const queues = createQueues(queueRedis, { prefix, maxAttempts: 3 });
  const dir = await mkdtemp(join(tmpdir(), `acebatch-${options.label}-`));
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = options.captureLogs ? createLogger({ name: "api-test", level: "trace" }, sink) : createLogger({ name: "api-test", level: "silent" });
  const storage = createLocalStorage({ root: dir });
  const app = await buildApp({
    redis,
    queues,
    storage,
    signer: createUrlSigner("x".repeat(32)),
    logger,
    config: { prefix, adminKey: TEST_ADMIN_KEY, publicBaseUrl: "http://127.0.0.1:8080", bodyLimitBytes: 1_048_576, ...options.config },
    now: options.now,
    probeSourceSeconds: options.probeSourceSeconds,
  });
  await app.ready();

  const call = (method: InjectOptions["method"], url: string, key: string | null = TEST_ADMIN_KEY, payload?: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method, url, payload: payload as InjectOptions["payload"], headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } });

  return {
    app,
    prefix,
    redis,
    queueRedis,
    queues,
    storage,
    dir,
    logText: () => lines.join(""),
    call,
    /** Create a stored key with these scopes (and options); returns the create response body. */
    async createKey(scopes: string[], extra: Record<string, unknown> = {}) {
      const res = await call("POST", "/v1/keys", TEST_ADMIN_KEY, { name: `test ${scopes.join(" ")}`, scopes, ...extra });
      if (res.statusCode !== 201) throw new Error(`POST /v1/keys answered ${res.statusCode}: ${res.body}`);
      return res.json() as { id: string; key: string; scopes: string[] } & Record<string, unknown>;
    },
    async close() {
      await app.close();
      await queues.close();
      await deletePrefix(redis, prefix).catch(() => undefined);
      await closeRedis(redis);
      await closeRedis(queueRedis);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof makeTestApp>>;
