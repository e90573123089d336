import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ label: "dlcap", workerEnv: { DOWNLOAD_MAX_BYTES: "20000" } });
  await stack.startWorker();
});
afterAll(async () => {
  await stack?.close();
});

it("a download larger than the cap fails the job and leaves nothing in storage", async () => {
  // 5 s at 8 kHz stereo 16-bit is 160 kB, far over the 20 kB cap.
  const { body } = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "x", duration: 5 } });
  const failed = await stack.waitForJob(body.id, ["failed"]);
  expect(failed.error.code).toBe("download_too_large");
  const jobDir = await readdir(join(stack.dataDir, "jobs")).catch(() => []);
  expect(jobDir).toEqual([]);
  const temp = await readdir(join(stack.dataDir, ".tmp")).catch(() => []);
  expect(temp).toEqual([]);
});
