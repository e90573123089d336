import { QUEUE_NAMES, QUEUE_STREAMS, type Queues } from "@acebatch/queue";
import { Queue } from "bullmq";

/**
 * A Queue handle for every queue of the job catalog (`QUEUE_NAMES`), for inspection only (metrics,
 * Bull Board): the app's own producers are reused, the others opened on the same connection and
 * prefix. A queue a colleague adds to the catalog shows up here without further changes.
 */
export function openCatalogQueues(queues: Queues) {
  const own = new Map<string, Queue>();
  for (const value of Object.values(queues)) if (value instanceof Queue) own.set(value.name, value);
  const opened: Queue[] = [];
  const list = Object.values(QUEUE_NAMES).map((name) => {
    const existing = own.get(name);
    if (existing) return existing;
    const queue = new Queue(name, { connection: queues.generate.opts.connection, prefix: queues.generate.opts.prefix, streams: QUEUE_STREAMS });
    opened.push(queue);
    return queue;
  });
  return {
    list: list as readonly Queue[],
    /** Close the handles opened here (the app's producers are closed by their owner). */
    async close() {
      await Promise.all(opened.map((queue) => queue.close()));
    },
  };
}

export type CatalogQueues = ReturnType<typeof openCatalogQueues>;
