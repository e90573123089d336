import { idFloorAt } from "@acebatch/contracts";
import { BATCH_JOB_PRIORITY, createKeys, type GeneratePayload, type JobStore } from "@acebatch/queue";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * The API writes a job record, then enqueues it. If Redis failed between the two (the client got
 * a 503), the record would sit `queued` with nothing in BullMQ. Every minute one worker (a Redis
 * lock elects it) re-enqueues queued records older than a minute that BullMQ does not hold.
 * Ids are time-sortable, so "older than a minute" is a lexicographic range on the status index.
 */
export function createOrphanReconciler(deps: { redis: Redis; prefix: string; store: JobStore; queue: { add(name: "generate", data: GeneratePayload, opts: { jobId: string; priority?: number }): Promise<unknown> }; logger: Logger; intervalMs?: number }) {
  const keys = createKeys(deps.prefix);
  const intervalMs = deps.intervalMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;

  async function runOnce(nowMs = Date.now()): Promise<number> {
    const lock = await deps.redis.set(`${keys.prefix}:lock:reconcile-orphans`, String(process.pid), "PX", intervalMs - 1_000, "NX");
    if (lock !== "OK") return 0;
    let requeued = 0;
    let min = "-";
    const max = `(${idFloorAt("job", nowMs - intervalMs)}`;
    for (;;) {
      const ids = await deps.redis.zrange(keys.jobsByStatus("queued"), min, max, "BYLEX", "LIMIT", 0, 500);
      if (ids.length === 0) break;
      const pipeline = deps.redis.pipeline();
      for (const id of ids) pipeline.exists(`${deps.prefix}:generate:${id}`);
      const exists = ((await pipeline.exec()) ?? []).map(([, n]) => n === 1);
      for (let i = 0; i < ids.length; i++) {
        if (exists[i]) continue;
        const rec = await deps.store.get(ids[i]!);
        if (!rec || rec.status !== "queued") continue;
        // Batch rows keep their lower priority, so a stranded batch never jumps ahead of single jobs.
        await deps.queue.add("generate", { job_id: rec.id, model: rec.model, input: rec.input }, { jobId: rec.id, ...(rec.batch_id ? { priority: BATCH_JOB_PRIORITY } : {}) });
        requeued++;
      }
      min = `(${ids.at(-1)}`;
    }
    if (requeued > 0) deps.logger.warn({ requeued }, "re-enqueued accepted jobs that never reached the queue");
    return requeued;
  }

  return {
    runOnce,
    start() {
      timer = setInterval(() => void runOnce().catch((err) => deps.logger.warn({ err }, "orphan reconciliation failed")), intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
