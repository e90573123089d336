import { waitFor } from "@acebatch/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
beforeAll(async () => {
  // One audio second per wall second: a 6 s clip stays at the provider long enough to kill the worker.
  stack = await startStack({ label: "crash", simulatorConfig: { speed: 1 } });
});
afterAll(async () => {
  await stack?.close();
});

it("a worker SIGKILLed while its job is at the provider is resumed on the same request, never resubmitted", async () => {
  const first = await stack.startWorker();
  const { body: job } = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "crash test", duration: 6 } });
  const atProvider = await waitFor(
    async () => {
      const { body } = await stack.api("GET", `/v1/jobs/${job.id}`);
      return body.provider.request_id ? body : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 50, message: "the job never reached the provider" },
  );
  await stack.stopWorker(first, "SIGKILL");
  await stack.startWorker();
  const done = await stack.waitForJob(job.id, ["completed"], 30_000);
  expect(done.provider.request_id).toBe(atProvider.provider.request_id);
  expect((await stack.simStats()).submits).toBe(1);
});
