import { createLedger } from "@acebatch/ledger";
import { createAddressPolicy } from "@acebatch/pricing";
import { createRedis, QUEUE_NAMES, webhookDeliveryPayloadSchema, type WebhookDeliveryPayload } from "@acebatch/queue";
import {
  attemptDelivery,
  createDeliveryStore,
  createEndpointStore,
  createEventRouter,
  createWebhookQueue,
  resolveWebhookSecret,
  retryBackoff,
  type DeliverDeps,
  type WebhookSettings,
} from "@acebatch/webhooks";
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { createEventDispatcher } from "./event-dispatcher.ts";

export interface WebhookWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  deliver: DeliverDeps;
  logger: Logger;
}

/**
 * The BullMQ side of webhook deliveries: one attempt per run, retried on the configured schedule
 * (a custom backoff), dead after the last retry or at once for a URL that can never work. The
 * delivery record, not BullMQ, is the durable outcome (and the dead-letter list).
 */
export function createWebhookWorker(options: WebhookWorkerOptions) {
  const { logger } = options;

  async function handle(job: Job<WebhookDeliveryPayload>): Promise<string> {
    const parsed = webhookDeliveryPayloadSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`payload of BullMQ job ${job.id} does not match the catalog: ${parsed.error.message}`);
    const id = parsed.data.delivery_id;
    const attempt = job.attemptsMade + 1;
    const result = await attemptDelivery(options.deliver, id, attempt);
    const log = logger.child({ deliveryId: id, attempt });
    switch (result.outcome) {
      case "delivered":
        log.info({ statusCode: result.statusCode }, "webhook delivered");
        return "delivered";
      case "skipped":
        return "skipped";
      case "retry":
        log.warn({ statusCode: result.statusCode, error: result.error, retryInMs: result.retryInMs }, "webhook delivery failed; will retry");
        throw new Error(`webhook delivery ${id} failed: ${result.error}`);
      case "dead":
        log.warn({ statusCode: result.statusCode, error: result.error }, "webhook delivery is dead (listed under /v1/webhooks/deliveries?status=dead)");
        throw new UnrecoverableError(`webhook delivery ${id} is dead: ${result.error}`);
    }
  }

  const worker = new Worker<WebhookDeliveryPayload>(QUEUE_NAMES.webhooks, handle, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    settings: { backoffStrategy: retryBackoff(options.deliver.retryScheduleMs) },
    autorun: false,
  });
  worker.on("error", (err) => logger.error({ err }, "webhook worker error"));

  return {
    worker,
    start() {
      void worker.run().catch((err) => logger.error({ err }, "webhook worker stopped with an error"));
    },
    /** Stop taking deliveries; in-flight POSTs (each bounded by its timeout) finish within `deadlineMs`. */
    async close(deadlineMs: number) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), deadlineMs);
      });
      const closed = await Promise.race([worker.close().then(() => "closed" as const), deadline]);
      clearTimeout(timer);
      if (closed === "timeout") await worker.close(true);
    },
  };
}

export interface WebhookServiceOptions {
  /** The worker process's worker-role connection (shared with its other BullMQ workers). */
  redis: Redis;
  redisUrl: string;
  prefix: string;
  publicBaseUrl: string;
  settings: WebhookSettings;
  logger: Logger;
}

/**
 * Everything webhooks need in one worker process: the event dispatcher (channel + reconciliation)
 * and the delivery worker. `start()` before the generate worker, `close()` after it, so the final
 * events of jobs finishing during shutdown are still fanned out.
 */
export async function createWebhookService(options: WebhookServiceOptions) {
  const { redis, prefix, settings, logger } = options;
  const secret = await resolveWebhookSecret(redis, prefix, settings.secret);
  const endpoints = createEndpointStore({ redis, prefix });
  const deliveries = createDeliveryStore({ redis, prefix });
  const queue = createWebhookQueue(redis, prefix);
  const ledger = createLedger({ redis, prefix });
  const router = createEventRouter({
    redis,
    prefix,
    endpoints,
    deliveries,
    queue,
    publicBaseUrl: options.publicBaseUrl,
    batchSpentMicroUsd: async (id) => (await ledger.getBudget({ kind: "batch", id })).spentMicroUsd,
  });
  const subscriber = createRedis(options.redisUrl, "subscriber");
  subscriber.on("error", (err) => logger.warn({ err: { message: err.message } }, "events subscriber connection error"));
  const dispatcher = createEventDispatcher({ redis, subscriber, prefix, router, reconcileIntervalMs: settings.reconcileIntervalMs, logger });
  const worker = createWebhookWorker({
    connection: redis,
    prefix,
    concurrency: settings.concurrency,
    deliver: {
      deliveries,
      endpoints,
      secret,
      policy: createAddressPolicy(settings.allowPrivateHosts),
      retryScheduleMs: settings.retryScheduleMs,
      timeoutMs: settings.timeoutMs,
    },
    logger,
  });
  return {
    /** The `whsec_` secret signing `webhook_url` deliveries (WEBHOOK_SECRET or the shared one). */
    secret,
    async start() {
      await dispatcher.start();
      worker.start();
    },
    async close(deadlineMs: number) {
      await dispatcher.close(Math.min(deadlineMs, 5_000));
      await worker.close(deadlineMs);
      await queue.close();
    },
  };
}
