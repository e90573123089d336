import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.ts";
import { wavDurationSeconds } from "../support/wav.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ label: "skeleton" });
  await stack.startWorker();
});
afterAll(async () => {
  await stack?.close();
});

async function audioSeconds(jobId: string) {
  const res = await fetch(`${stack.baseUrl}/v1/jobs/${jobId}/audio`, { headers: { authorization: `Bearer e2e-admin-key-0123456789abcdef` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("audio/wav");
  return wavDurationSeconds(new Uint8Array(await res.arrayBuffer()));
}

describe("one job end to end for all four models", () => {
  it("generates, inpaints and outpaints real WAVs of the requested length", async () => {
    const base = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "lo-fi, 90 BPM", duration: 7, seed: 11 } });
    const v15 = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step-1.5/text-to-audio", input: { tags: "j-pop, japanese vocal", duration: 5 } });
    expect(base.status).toBe(202);
    expect(v15.status).toBe(202);
    const baseDone = await stack.waitForJob(base.body.id);
    const v15Done = await stack.waitForJob(v15.body.id);
    expect(await audioSeconds(base.body.id)).toBe(7);
    expect(await audioSeconds(v15.body.id)).toBe(5);
    expect(baseDone).toMatchObject({ cost_usd: 0.0014, output: { duration_seconds: 7, seed: 11 }, provider: { request_id: expect.any(String) } });
    expect(v15Done.cost_usd).toBe(0.0015);

    const inpaint = await stack.api("POST", "/v1/jobs", {
      model: "acestep-ai/ace-step/audio-inpaint",
      input: { audio: base.body.id, tags: "piano breakdown", start_time: 2, end_time: 4 },
    });
    const outpaint = await stack.api("POST", "/v1/jobs", {
      model: "acestep-ai/ace-step/audio-outpaint",
      input: { audio: base.body.id, tags: "intro and outro", extend_before_duration: 2, extend_after_duration: 3 },
    });
    expect(inpaint.status).toBe(202);
    expect(outpaint.status).toBe(202);
    await stack.waitForJob(inpaint.body.id);
    await stack.waitForJob(outpaint.body.id);
    expect(await audioSeconds(inpaint.body.id)).toBe(7);
    expect(await audioSeconds(outpaint.body.id)).toBe(12);
    expect((await stack.simStats()).submits).toBe(4);
  });

  it("serves byte ranges of the audio", async () => {
    const job = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "x", duration: 5 } });
    const done = await stack.waitForJob(job.body.id);
    const res = await fetch(`${stack.baseUrl}/v1/jobs/${job.body.id}/audio`, {
      headers: { authorization: `Bearer e2e-admin-key-0123456789abcdef`, range: "bytes=0-11" },
    });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 0-11/${done.output.bytes}`);
    expect(new TextDecoder().decode((await res.arrayBuffer()).slice(0, 4))).toBe("RIFF");
  });
});
