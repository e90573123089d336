import { waitFor } from "@acebatch/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { download, sha256, waitForFinish } from "../support/finishing-audio.ts";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ label: "finish-crash", simulatorConfig: { sample_rate: 48_000 } });
});
afterAll(async () => {
  await stack?.close();
});

it("a worker SIGKILLed mid-finish leaves the original intact and the job completed; POST /finish then succeeds", async () => {
  const submitted = await stack.api("POST", "/v1/jobs", {
    model: "acestep-ai/ace-step/text-to-audio",
    // Long enough that finishing (decode, two loudnorm passes, three encoders, verification) takes a while.
    input: { tags: "long loop bed, 120 BPM", duration: 150, seed: 5 },
    finish: { loudness_lufs: -16, formats: ["flac", "mp3", "ogg"] },
  });
  expect(submitted.status).toBe(202);
  // No worker yet, so the job is still queued: finishing it is a conflict.
  const early = await stack.api("POST", `/v1/jobs/${submitted.body.id}/finish`, { finish: { formats: ["mp3"] } });
  expect(early.status).toBe(409);
  expect(early.body.error.code).toBe("job_not_completed");

  const victim = await stack.startWorker({ FINISH_CONCURRENCY: "1" });
  const completed = await stack.waitForJob(submitted.body.id, ["completed"], 60_000);
  await waitFor(async () => ((await stack.api("GET", `/v1/jobs/${completed.id}`)).body.finish_status === "running" ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 20,
    message: "finishing never started",
  });
  await new Promise((resolve) => setTimeout(resolve, 750)); // well inside ffmpeg by now
  await stack.stopWorker(victim, "SIGKILL");

  const afterKill = (await stack.api("GET", `/v1/jobs/${completed.id}`)).body;
  expect(afterKill).toMatchObject({ status: "completed", finish_status: "running", output: { sha256: completed.output.sha256, finished: null } });
  const original = await download(stack, `/v1/jobs/${completed.id}/audio`);
  expect(original.status).toBe(200);
  expect(sha256(original.bytes)).toBe(completed.output.sha256);

  // Retry finishing alone (no body: the stored finish block runs again), then bring a worker back.
  const retry = await stack.api("POST", `/v1/jobs/${completed.id}/finish`);
  expect(retry.status).toBe(202);
  expect(retry.body.status).toBe("completed");
  // Read after the run is queued: a fast finish worker may already have started it.
  expect(["pending", "running"]).toContain(retry.body.finish_status);
  const startedAt = Date.now();
  await stack.startWorker();
  const finished = await waitForFinish(stack, completed.id, 120_000);
  console.log(`finishing after the kill took ${((Date.now() - startedAt) / 1000).toFixed(1)} s for a 150 s track`);
  expect(finished).toMatchObject({ status: "completed", finish_error: null, cost_usd: completed.cost_usd });
  expect(Object.keys(finished.output.finished.formats).sort()).toEqual(["flac", "mp3", "ogg", "wav"]);
  const mp3 = await download(stack, `/v1/jobs/${completed.id}/audio?variant=finished&format=mp3`);
  expect(mp3.headers.get("content-type")).toBe("audio/mpeg");
  expect(sha256(mp3.bytes)).toBe(finished.output.finished.files.mp3.sha256);
  expect(sha256((await download(stack, `/v1/jobs/${completed.id}/audio`)).bytes)).toBe(completed.output.sha256);
  // Nothing was bought twice.
  expect((await stack.simStats()).submits).toBe(1);
}, 240_000);
