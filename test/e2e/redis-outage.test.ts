import { startTestRedis, waitFor, type SpawnedRedis } from "@acebatch/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.ts";

let redis: SpawnedRedis;
let stack: Stack;
beforeAll(async () => {
  redis = await startTestRedis({ restartable: true });
  stack = await startStack({ label: "outage", redisUrl: redis.url, workerEnv: { PROVIDER_RPS: "0" } });
  await stack.startWorker();
});
afterAll(async () => {
  await stack?.close();
  await redis?.stop();
});

it("while Redis is down the API answers 503 at once, and everything recovers by itself", async () => {
  const before = (await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "before", duration: 5 } })).body;
  await stack.waitForJob(before.id);

  await redis.down();
  const started = Date.now();
  const list = await stack.api("GET", "/v1/jobs");
  const submit = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "during", duration: 5 } });
  const ready = await fetch(`${stack.baseUrl}/readyz`);
  expect(Date.now() - started).toBeLessThan(3_000);
  expect(list.status).toBe(503);
  expect(list.body.error.code).toBe("redis_unavailable");
  expect(submit.status).toBe(503);
  expect(ready.status).toBe(503);

  await redis.up();
  await waitFor(async () => ((await fetch(`${stack.baseUrl}/readyz`)).status === 200 ? true : undefined), {
    timeoutMs: 20_000,
    intervalMs: 200,
    message: "the API did not become ready after Redis came back",
  });
  const after = (await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "after", duration: 5 } })).body;
  const done = await stack.waitForJob(after.id, ["completed"], 30_000);
  expect(done.output.duration_seconds).toBe(5);
}, 90_000);
