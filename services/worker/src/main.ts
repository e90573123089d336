import { ConfigError, createLogger, type Logger } from "@acebatch/config";
import { createRunComfyClient } from "@acebatch/provider";
import { closeRedis, createJobStore, createRedis, QUEUE_NAMES, QUEUE_STREAMS, sharedSecret } from "@acebatch/queue";
import { Queue } from "bullmq";
import { createStorage, createUrlSigner } from "@acebatch/storage";
import { DEFAULT_PROVIDER_BASE, loadWorkerConfig, type WorkerConfig } from "./config.ts";
import { createGenerateProcessor } from "./generate-processor.ts";
import { createGenerateWorker } from "./generate-worker.ts";
import { createSpeedTracker } from "./poll-schedule.ts";
import { createSourceResolver } from "./source-audio.ts";
import { createAuthGuard } from "./flow/auth-guard.ts";
import { probeProviderToken } from "./flow/auth-probe.ts";
import { createProviderGate } from "./flow/provider-gate.ts";
import { createResilientProvider } from "./flow/resilient-provider.ts";
import { createLedger } from "@acebatch/ledger";
import { createJobEstimator, createSourceLengthProbe } from "@acebatch/pricing";
import { createJobMoney } from "./money/job-money.ts";
import { createOrphanReconciler } from "./reconcile-orphans.ts";
import { createProviderMetricsBuffer, publishEvent } from "@acebatch/queue";
import { createQueues } from "@acebatch/queue";
import { createScheduleWorker } from "./schedule-worker.ts";
import { createWebhookService } from "./webhook-worker.ts";
import { createFinishWorker } from "./finish-worker.ts";

/** Start one worker process's generation worker; returns a handle whose close() is bounded. */
export async function startWorker(config: WorkerConfig, options: { logger?: Logger } = {}) {
  const logger = options.logger ?? createLogger({ name: "worker", level: config.logLevel });
  const token = config.provider.token;
  if (!token && config.provider.baseUrl === DEFAULT_PROVIDER_BASE) {
    throw new ConfigError([
      { variable: "RUNCOMFY_TOKEN", message: "is required to call the RunComfy Model API (or point RUNCOMFY_MODEL_API_BASE at the simulator)" },
    ]);
  }
  const warnRedisError = (err: Error) => logger.warn({ err: { message: err.message } }, "redis connection error");
  const redis = createRedis(config.redis.url, "worker");
  redis.on("error", warnRedisError);
  // Job records, money, the provider gate and metrics on a connection of their own; BullMQ keeps
  // `redis` for itself. (Like every worker connection, each sends one event-loop turn's commands
  // as one write.)
  const commands = createRedis(config.redis.url, "worker");
  commands.on("error", warnRedisError);
  const store = createJobStore({ redis: commands, prefix: config.redis.prefix });
  const storage = createStorage(config.storage);
  const secret = config.sourceUrls.secret ?? (await sharedSecret(redis, config.redis.prefix, "url-signing"));
  const gate = createProviderGate({ redis: commands, prefix: config.redis.prefix, settings: config.provider });
  const providerMetrics = createProviderMetricsBuffer(commands, config.redis.prefix);
  const client = createRunComfyClient({
    baseUrl: config.provider.baseUrl,
    // Any non-empty token is accepted by the simulator.
    token: token ?? "simulator",
    requestTimeoutMs: config.provider.requestTimeoutMs,
    // Every provider HTTP call, from every worker process, passes the shared gate.
    beforeCall: (_call, { signal }) => gate.acquire(signal),
    // Cluster-wide provider-call metrics, read by the API's /metrics.
    afterCall: (call, outcome) => providerMetrics.record(call, outcome),
  });
  // A control handle on the queue: global pause/resume and the cap on generations in flight.
  const control = new Queue(QUEUE_NAMES.generate, { connection: redis, prefix: config.redis.prefix, streams: QUEUE_STREAMS });
  await control.setGlobalConcurrency(config.provider.maxConcurrent);
  const auth = createAuthGuard({
    redis,
    prefix: config.redis.prefix,
    queue: control,
    probe: () => probeProviderToken(client),
    probeIntervalMs: config.provider.authProbeIntervalMs,
    logger,
  });
  const provider = createResilientProvider({
    client,
    gate,
    auth,
    settings: { callRetries: config.provider.callRetries, retryBaseMs: 500, resubmitAmbiguous: config.provider.resubmitAmbiguous },
  });
  const probe = createSourceLengthProbe({ allowPrivateHosts: config.money.sourceAllowPrivateHosts });
  const money = createJobMoney({
    ledger: createLedger({ redis: commands, prefix: config.redis.prefix }),
    estimate: createJobEstimator({
      prices: config.money.prices,
      sourceJobSeconds: async (id) => (await store.get(id))?.output?.duration_seconds ?? null,
      probeSourceSeconds: probe,
    }),
    store,
    recheckMs: config.money.budgetRecheckMs,
    onThreshold: ({ scope, percent }) => {
      logger.warn({ scope, percent }, `budget threshold crossed: ${percent}% of the ${scope.kind} budget is spent`);
      void publishEvent(redis, config.redis.prefix, { type: "budget.threshold", scope, percent }).catch(() => undefined);
    },
  });
  const finishing = createFinishWorker({
    redis,
    prefix: config.redis.prefix,
    concurrency: config.finish.concurrency,
    lockDurationMs: config.jobs.lockDurationMs,
    store,
    storage,
    logger,
  });
  const processGenerate = createGenerateProcessor({
    store,
    provider,
    storage,
    money,
    resolveProviderInput: createSourceResolver({
      store,
      storage,
      signer: createUrlSigner(secret),
      publicBaseUrl: config.sourceUrls.publicBaseUrl,
      ttlSeconds: config.sourceUrls.ttlSeconds,
    }),
    speed: createSpeedTracker(config.polling.expectedSpeed),
    enqueueFinish: finishing.enqueue,
    settings: {
      polling: config.polling,
      resubmitAmbiguous: config.provider.resubmitAmbiguous,
      // A crashed worker's submit claim lapses with its BullMQ lock, so the job it held resumes as
      // soon as the lock's expiry hands it to another worker; a live holder renews both.
      submitLeaseMs: config.jobs.lockDurationMs,
      download: config.download,
      prices: config.money.prices,
    },
    logger,
  });
  const generate = createGenerateWorker({
    connection: redis,
    prefix: config.redis.prefix,
    concurrency: config.jobs.concurrency,
    lockDurationMs: config.jobs.lockDurationMs,
    store,
    money,
    process: processGenerate,
    logger,
  });
  // Every worker process also fires schedule occurrences (each one decides once, whoever takes it).
  const scheduleProducers = createQueues(redis, { prefix: config.redis.prefix, maxAttempts: config.jobs.maxAttempts });
  const schedules = createScheduleWorker({
    redis,
    prefix: config.redis.prefix,
    jobs: store,
    queues: scheduleProducers,
    prices: config.money.prices,
    sourceSeconds: probe,
    logger,
  });
  const reconciler = createOrphanReconciler({ redis, prefix: config.redis.prefix, store, queue: control, logger });
  const webhooks = await createWebhookService({
    redis,
    redisUrl: config.redis.url,
    prefix: config.redis.prefix,
    publicBaseUrl: config.sourceUrls.publicBaseUrl,
    settings: config.webhooks,
    logger,
  });
  // Subscribed (and a first reconciliation pass done) before this process finishes any job.
  await webhooks.start();
  auth.start();
  reconciler.start();
  generate.start();
  await finishing.start();
  schedules.start();
  logger.info(
    {
      concurrency: config.jobs.concurrency,
      provider: new URL(config.provider.baseUrl).host,
      maxRps: config.provider.maxRps,
      maxConcurrent: config.provider.maxConcurrent,
    },
    "worker ready",
  );
  return {
    /** The secret signing `webhook_url` deliveries (WEBHOOK_SECRET, or the one shared through Redis). */
    webhookSecret: webhooks.secret,
    async close() {
      auth.stop();
      await schedules.close(config.shutdownDeadlineMs);
      await generate.close(config.shutdownDeadlineMs);
      await finishing.close(config.shutdownDeadlineMs);
      await webhooks.close(config.shutdownDeadlineMs);
      await scheduleProducers.close();
      await control.close();
      await providerMetrics.close();
      await closeRedis(commands);
      await closeRedis(redis);
    },
  };
}

async function main() {
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(64);
    }
    throw err;
  }
  const logger = createLogger({ name: "worker", level: config.logLevel });
  let worker: Awaited<ReturnType<typeof startWorker>>;
  try {
    worker = await startWorker(config, { logger });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(64);
    }
    throw err;
  }
  const stop = async (signal: string) => {
    logger.info({ signal }, "worker shutting down");
    await worker.close();
    logger.info("worker stopped");
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

if (import.meta.main) await main();
