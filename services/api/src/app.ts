import { createJobStore, type Queues } from "@acebatch/queue";
import type { ObjectStorage, UrlSigner } from "@acebatch/storage";
import Fastify from "fastify";
import type { Logger } from "pino";
import type { Redis } from "ioredis";
import { createLedger } from "@acebatch/ledger";
import { createJobEstimator, loadPrices, type PriceTable } from "@acebatch/pricing";
import { authPlugin } from "./auth.ts";
import { createBudgetService } from "./budget-service.ts";
import { budgetRoutes } from "./routes/budget.ts";
import { createSchedulesService } from "./schedules-service.ts";
import { scheduleRoutes } from "./routes/schedules.ts";
import { errorHandler, frameworkErrorHandler, MAX_PARAM_LENGTH, notFoundHandler } from "./error-handler.ts";
import { createJobsService } from "./jobs-service.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { healthRoutes } from "./routes/health.ts";
import { jobAudioRoutes } from "./routes/job-audio.ts";
import { jobFinishRoutes } from "./routes/job-finish.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { batchRoutes } from "./routes/batches.ts";
import { zodValidatorCompiler } from "./validation.ts";
import { createApiKeyStore } from "@acebatch/queue";
import { adminBoard } from "./admin-board.ts";
import { openCatalogQueues } from "./catalog-queues.ts";
import { keyRoutes } from "./keys/key-routes.ts";
import { createKeysService } from "./keys/keys-service.ts";
import { RATE_WINDOW_MS, rateLimitPlugin } from "./keys/rate-limit.ts";
import { createApiMetrics } from "./metrics.ts";
import { openapiPlugin } from "./openapi.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { eventRoutes } from "./routes/events.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { AccessLogController, lazyRequestLogger } from "./request-logger.ts";

export interface AppDeps {
  /** A producer-role connection (fails fast while Redis is down). */
  redis: Redis;
  queues: Queues;
  storage: ObjectStorage;
  signer: UrlSigner;
  logger: Logger;
  config: {
    prefix: string;
    adminKey: string;
    publicBaseUrl: string;
    bodyLimitBytes: number;
    prices?: PriceTable;
    /** Row and byte limits of one batch upload (defaults 100,000 rows, 50 MB). */
    batchLimits?: { maxRows?: number; maxBytes?: number };
    /** Requests per minute per API key (or per IP without one) unless the key sets its own; default 600. */
    rateLimitPerMinute?: number;
    /** Private hosts/CIDRs a remote source may be measured on besides PUBLIC_BASE_URL's host (SOURCE_ALLOW_PRIVATE_HOSTS). */
    sourceAllowPrivateHosts?: string[];
  };
  now?: () => Date;
  /** Length in seconds of a remote source track, for batch quotes; default: the SSRF-guarded probe of @acebatch/pricing. */
  probeSourceSeconds?: (url: string) => Promise<number>;
}

/** Build the HTTP app with every route and plugin; it never listens (main.ts or tests do). */
export async function buildApp(deps: AppDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.config.bodyLimitBytes,
    requestIdHeader: "x-request-id",
    genReqId: () => `req_${Math.random().toString(36).slice(2, 12)}`,
    childLoggerFactory: lazyRequestLogger,
    logController: new AccessLogController(),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkErrorHandler,
  });
  app.decorateRequest("accessLog", null);
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  const store = createJobStore({ redis: deps.redis, prefix: deps.config.prefix });
  const estimator = createJobEstimator({
    prices: deps.config.prices ?? loadPrices(),
    sourceJobSeconds: async (id) => (await store.get(id))?.output?.duration_seconds ?? null,
  });
  const ledger = createLedger({ redis: deps.redis, prefix: deps.config.prefix });
  const budget = createBudgetService({ redis: deps.redis, prefix: deps.config.prefix, ledger, queues: deps.queues, estimator });
  const jobs = createJobsService({
    redis: deps.redis,
    prefix: deps.config.prefix,
    store,
    queues: deps.queues,
    estimate: budget.estimateMicroUsd,
    now: deps.now,
  });

  const apiKeys = createApiKeyStore({ redis: deps.redis, prefix: deps.config.prefix, now: deps.now });
  await app.register(authPlugin, {
    adminKey: deps.config.adminKey,
    verifySignedUrl: (path, expires, signature) => deps.signer.verify(path, expires, signature),
    findKey: (secret) => apiKeys.findBySecretCounting(secret, RATE_WINDOW_MS),
  });
  await app.register(rateLimitPlugin, { redis: deps.redis, keyPrefix: deps.config.prefix, defaultPerMinute: deps.config.rateLimitPerMinute ?? 600 });
  // Before any route: the OpenAPI document and the route catalog attach through onRoute hooks.
  await app.register(openapiPlugin, { version: "0.1.0" });
  const catalogQueues = openCatalogQueues(deps.queues);
  app.addHook("onClose", async () => catalogQueues.close());
  await app.register(metricsRoutes, { metrics: createApiMetrics({ redis: deps.redis, prefix: deps.config.prefix, ledger, queues: catalogQueues.list }) });
  await app.register(keyRoutes, { keys: createKeysService({ store: apiKeys, ledger, onBudgetChanged: budget.wakeWaitingJobs }) });
  await app.register(adminBoard, { queues: catalogQueues.list });
  await app.register(healthRoutes, { redis: deps.redis, keyPrefix: deps.config.prefix });
  await app.register(dashboardRoutes);
  await app.register(jobRoutes, { jobs, publicBaseUrl: deps.config.publicBaseUrl });
  await app.register(jobAudioRoutes, { jobs, storage: deps.storage });
  await app.register(jobFinishRoutes, { store, redis: deps.redis, queues: deps.queues, storage: deps.storage, publicBaseUrl: deps.config.publicBaseUrl });
  await app.register(budgetRoutes, { budget });
  await app.register(batchRoutes, {
    redis: deps.redis,
    keyPrefix: deps.config.prefix,
    store,
    queues: deps.queues,
    ledger,
    storage: deps.storage,
    signer: deps.signer,
    publicBaseUrl: deps.config.publicBaseUrl,
    prices: deps.config.prices,
    sourceAllowPrivateHosts: deps.config.sourceAllowPrivateHosts,
    probeSourceSeconds: deps.probeSourceSeconds,
    limits: deps.config.batchLimits,
    now: deps.now,
  });
  const schedules = createSchedulesService({
    redis: deps.redis,
    prefix: deps.config.prefix,
    jobs: store,
    queues: deps.queues,
    prices: deps.config.prices ?? loadPrices(),
    now: deps.now,
  });
  app.addHook("onClose", async () => schedules.close());
  await app.register(scheduleRoutes, { schedules });
  await app.register(webhookRoutes, { redis: deps.redis, keyPrefix: deps.config.prefix });
  await app.register(eventRoutes, { redis: deps.redis, keyPrefix: deps.config.prefix, store, ledger, publicBaseUrl: deps.config.publicBaseUrl, now: deps.now });
  return app;
}
