import { newId } from "@acebatch/contracts";
import { createLogger } from "@acebatch/config";
import { closeRedis, createJobStore, createQueues, createRedis } from "@acebatch/queue";
import { uniquePrefix } from "@acebatch/testing";
import { afterEach, expect, inject, it } from "vitest";
import { createOrphanReconciler } from "./reconcile-orphans.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

it("re-enqueues queued records older than a minute that BullMQ does not hold, once", async () => {
  const prefix = uniquePrefix("orphans");
  const redis = createRedis(inject("redisUrl"), "worker");
  const queues = createQueues(redis, { prefix, maxAttempts: 1 });
  cleanups.push(async () => {
    await queues.generate.obliterate({ force: true });
    await queues.close();
    await closeRedis(redis);
  });
  const store = createJobStore({ redis, prefix });
  const twoMinutesAgo = Date.now() - 120_000;
  const orphan = { id: newId("job", twoMinutesAgo), model: "acestep-ai/ace-step/text-to-audio" as const, input: { tags: "x" }, created_at: new Date(twoMinutesAgo).toISOString() };
  const enqueued = { ...orphan, id: newId("job", twoMinutesAgo) };
  const fresh = { ...orphan, id: newId("job") };
  for (const job of [orphan, enqueued, fresh]) await store.create(job);
  await queues.generate.add("generate", { job_id: enqueued.id, model: enqueued.model, input: enqueued.input }, { jobId: enqueued.id });

  const reconciler = createOrphanReconciler({ redis, prefix, store, queue: queues.generate, logger: createLogger({ name: "t", level: "silent" }), intervalMs: 60_000 });
  expect(await reconciler.runOnce()).toBe(1);
  expect(await queues.generate.getJob(orphan.id)).toBeTruthy();
  expect(await queues.generate.getJob(fresh.id)).toBeUndefined();
  // A second worker in the same minute does nothing (the lock), and a later pass finds nothing left.
  expect(await reconciler.runOnce()).toBe(0);
});
