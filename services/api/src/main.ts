import { randomBytes } from "node:crypto";
import { ConfigError, createLogger } from "@acebatch/config";
import { closeRedis, createQueues, createRedis, redisReady, sharedSecret } from "@acebatch/queue";
import { createStorage, createUrlSigner } from "@acebatch/storage";
import { buildApp } from "./app.ts";
import { loadApiConfig, type ApiConfig } from "./config.ts";

const SHUTDOWN_DEADLINE_MS = 15_000;

/** Start the API process: connections, app, listen, and a bounded graceful shutdown. */
export async function startApi(config: ApiConfig, options: { adminKey: string; logger?: ReturnType<typeof createLogger> }) {
  const logger = options.logger ?? createLogger({ name: "api", level: config.logLevel, secrets: [options.adminKey] });
  const redis = createRedis(config.redis.url, "producer");
  redis.on("error", (err) => logger.warn({ err: { message: err.message } }, "redis connection error"));
  await redisReady(redis);
  // The producer side shares the fail-fast connection: a submit answers 503 instead of hanging, and
  // the record and its queue entry travel in order on one connection.
  const queues = createQueues(redis, { prefix: config.redis.prefix, maxAttempts: config.jobs.maxAttempts });
  const storage = createStorage(config.storage);
  const secret = config.signing.secret ?? (await sharedSecret(redis, config.redis.prefix, "url-signing"));
  const app = await buildApp({
    redis,
    queues,
    storage,
    signer: createUrlSigner(secret),
    logger,
    config: {
      prefix: config.redis.prefix,
      adminKey: options.adminKey,
      publicBaseUrl: config.http.publicBaseUrl,
      bodyLimitBytes: config.http.bodyLimitBytes,
      rateLimitPerMinute: config.http.rateLimitPerMinute,
      sourceAllowPrivateHosts: config.sources.allowPrivateHosts,
    },
  });
  const address = await app.listen({ port: config.http.port, host: config.http.host });
  logger.info({ address, publicBaseUrl: config.http.publicBaseUrl }, "api listening");

  /** Run one shutdown step, giving up on it (with a warning naming it) after `ms`. */
  const step = async (name: string, work: Promise<unknown>, ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), ms);
    });
    const outcome = await Promise.race([work.then(() => "done" as const, () => "done" as const), timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") logger.warn({ step: name, ms }, "shutdown step did not finish in time; moving on");
  };

  return {
    app,
    address,
    /** Stop listening and release connections; every step is bounded, so this always returns. */
    async close() {
      await step("http server", app.close(), 5_000);
      await step("queues", queues.close(), 2_000);
      await closeRedis(redis);
    },
  };
}

async function main() {
  let config: ApiConfig;
  try {
    config = loadApiConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(64);
    }
    throw err;
  }
  let adminKey = config.auth.adminKey;
  if (!adminKey) {
    adminKey = `ak_${randomBytes(24).toString("base64url")}`;
    process.stderr.write(`\nACEBATCH_ADMIN_KEY was not set; this process generated one:\n\n  ${adminKey}\n\n`);
  }
  const api = await startApi(config, { adminKey });
  const stop = async (signal: string) => {
    api.app.log.info({ signal }, "shutting down");
    setTimeout(() => {
      console.error("api shutdown deadline passed; exiting");
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    await api.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

if (import.meta.main) await main();
