import { waitFor } from "@acebatch/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
beforeAll(async () => {
  // One render at a time, one audio second per wall second: a second job waits in the provider's queue.
  stack = await startStack({ label: "cancel", simulatorConfig: { speed: 1, max_concurrent: 1 }, workerEnv: { PROVIDER_RPS: "0" } });
  await stack.startWorker();
});
afterAll(async () => {
  await stack?.close();
});

const atProvider = (id: string, providerStatus: string) =>
  waitFor(
    async () => {
      const { body } = await stack.api("GET", `/v1/jobs/${id}`);
      return body.provider.status === providerStatus ? body : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 50, message: `job ${id} never reached provider status ${providerStatus}` },
  );

it("cancelling a job queued at the provider cancels it there; one already rendering is charged, so its audio is kept", async () => {
  const rendering = (await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "a", duration: 6 } })).body;
  await atProvider(rendering.id, "in_progress");
  const waiting = (await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "b", duration: 6 } })).body;
  await atProvider(waiting.id, "in_queue");

  expect((await stack.api("POST", `/v1/jobs/${waiting.id}/cancel`)).body.cancel_requested).toBe(true);
  expect((await stack.api("POST", `/v1/jobs/${rendering.id}/cancel`)).body.cancel_requested).toBe(true);

  const cancelled = await stack.waitForJob(waiting.id, ["cancelled"], 20_000);
  expect(cancelled.output).toBeNull();
  const kept = await stack.waitForJob(rendering.id, ["completed"], 20_000);
  expect(kept.output.duration_seconds).toBe(6);
  expect(kept.cost_usd).toBe(0.0012);
  const stats = await stack.simStats();
  expect(stats.cancels).toBe(2);
  expect(stats.billed_seconds).toBe(6);
}, 60_000);
