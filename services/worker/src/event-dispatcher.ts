import { createEventSubscriber, webhookKeys, type EventRouter } from "@acebatch/webhooks";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

export interface EventDispatcherOptions {
  /** A worker-role connection for commands (the reconcile lock). */
  redis: Redis;
  /** A dedicated connection for the subscription; the dispatcher owns and closes it. */
  subscriber: Redis;
  prefix: string;
  router: EventRouter;
  /** How often a reconciliation pass runs somewhere in the deployment (ms). */
  reconcileIntervalMs: number;
  logger: Logger;
  /** Messages handled at once by this process. */
  concurrency?: number;
}

/**
 * Turns the events channel into webhook deliveries. Every worker process runs one: the channel is
 * the fast path (each message is claimed by one dispatcher), and a reconciliation pass, run by one
 * process per interval, finds whatever the fire-and-forget channel lost (no dispatcher subscribed,
 * a reconnect, a process killed half-way). Deliveries are idempotent, so overlaps are harmless.
 */
export function createEventDispatcher(options: EventDispatcherOptions) {
  const { redis, router, logger } = options;
  const subscriber = createEventSubscriber({ redis: options.subscriber, prefix: options.prefix });
  const lockKey = webhookKeys(options.prefix).reconcileLock();
  const limit = options.concurrency ?? 16;
  const backlog: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let reconciling: Promise<void> | null = null;
  let closed = false;

  function pump() {
    while (!closed && inFlight.size < limit && backlog.length > 0) {
      const raw = backlog.shift()!;
      const work = router
        .handleMessage(raw)
        .catch((err: unknown) => logger.warn({ err }, "could not turn an event into webhook deliveries; the reconciliation pass will"))
        .finally(() => {
          inFlight.delete(work);
          pump();
        });
      inFlight.add(work);
    }
  }

  /** One pass, if no process of the deployment ran one within the interval. */
  function reconcile(force = false): Promise<void> {
    reconciling ??= (async () => {
      try {
        if (!force && (await redis.set(lockKey, "1", "PX", options.reconcileIntervalMs, "NX")) !== "OK") return;
        const found = await router.reconcile();
        // Usually jobs the channel's handler is fanning out at this very moment (harmless overlap); debug only.
        if (found.jobs > 0 || found.batches > 0) logger.debug(found, "webhook reconciliation fanned out finished work");
      } catch (err) {
        logger.warn({ err }, "webhook reconciliation pass failed; the next one retries");
      } finally {
        reconciling = null;
      }
    })();
    return reconciling;
  }

  return {
    /** Subscribe, then run a first pass before this process starts finishing jobs. */
    async start() {
      subscriber.listen((raw) => {
        backlog.push(raw);
        pump();
      });
      subscriber.onResubscribed(() => {
        logger.info("events channel re-subscribed after a reconnect; reconciling what may have been missed");
        void reconcile(true);
      });
      await subscriber.start();
      await reconcile();
      timer = setInterval(() => void reconcile(), options.reconcileIntervalMs);
      timer.unref();
    },
    /** Stop listening and finish what is in hand (bounded). */
    async close(deadlineMs = 5_000) {
      closed = true;
      clearInterval(timer);
      await subscriber.close();
      const pending = [...inFlight, ...(reconciling ? [reconciling] : [])];
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(pending), new Promise((resolve) => (deadline = setTimeout(resolve, deadlineMs)))]);
      clearTimeout(deadline);
    },
  };
}
