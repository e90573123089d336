import { closeRedis, createKeys } from "@acebatch/queue";
import type { Redis } from "ioredis";

export type ChannelListener = (raw: string) => void;

/**
 * One subscription to the `${prefix}:events` channel per process, fanned out to any number of
 * in-process listeners (the webhook dispatcher, every open SSE stream). It owns `redis`, which must
 * be a dedicated connection (a subscribed connection can run no other command). ioredis
 * re-subscribes after a reconnect; `onResubscribed` tells listeners that messages may have been
 * missed in between.
 */
export function createEventSubscriber({ redis, prefix }: { redis: Redis; prefix: string }) {
  const channel = createKeys(prefix).events();
  const listeners = new Set<ChannelListener>();
  const resubscribed = new Set<() => void>();
  let started: Promise<void> | null = null;
  let readyOnce = false;

  redis.on("message", (from: string, raw: string) => {
    if (from !== channel) return;
    for (const listener of listeners) {
      try {
        listener(raw);
      } catch {
        // A failing listener must not stop the others.
      }
    }
  });
  redis.on("ready", () => {
    if (!readyOnce) {
      readyOnce = true;
      return;
    }
    for (const fn of resubscribed) fn();
  });

  return {
    /** Subscribe (once; later calls wait for the same subscription). */
    start(): Promise<void> {
      if (redis.status === "ready") readyOnce = true;
      started ??= redis.subscribe(channel).then(() => undefined);
      return started;
    },
    /** Add a listener; returns the function that removes it. */
    listen(listener: ChannelListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onResubscribed(fn: () => void): () => void {
      resubscribed.add(fn);
      return () => resubscribed.delete(fn);
    },
    get listenerCount() {
      return listeners.size;
    },
    async close(): Promise<void> {
      listeners.clear();
      resubscribed.clear();
      await closeRedis(redis);
    },
  };
}

export type EventSubscriber = ReturnType<typeof createEventSubscriber>;
