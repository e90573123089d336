import type { Worker } from "bullmq";
import type { Logger } from "pino";

/**
 * Close a BullMQ worker within `deadlineMs`: `worker.close()` waits for active jobs with no limit
 * (and can hang while Redis is unreachable), so past the deadline it is forced.
 */
export async function closeWorkerWithin(worker: Worker, deadlineMs: number, logger: Logger, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), deadlineMs);
  });
  const closed = await Promise.race([worker.close().then(() => "closed" as const), deadline]);
  clearTimeout(timer);
  if (closed === "timeout") {
    logger.warn({ deadlineMs, worker: name }, "worker did not close in time; forcing");
    await worker.close(true);
  }
}
