import { afterAll, beforeAll, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ label: "money", workerEnv: { PROVIDER_RPS: "0" } });
  await stack.startWorker();
});
afterAll(async () => {
  await stack?.close();
});

it("the estimate of each of the four models equals what the provider bills, and the spend report adds up", async () => {
  const base = (await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "a", duration: 12 } })).body;
  const v15 = (await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step-1.5/text-to-audio", input: { tags: "b", duration: 7 } })).body;
  await stack.waitForJob(base.id);
  const inpaint = (await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/audio-inpaint", input: { audio: base.id, tags: "c", start_time: 1, end_time: 3 } })).body;
  const outpaint = (await stack.api("POST", "/v1/jobs", {
    model: "acestep-ai/ace-step/audio-outpaint",
    input: { audio: base.id, tags: "d", extend_before_duration: 2, extend_after_duration: 5 },
  })).body;

  const expected: Record<string, number> = { [base.id]: 0.0024, [v15.id]: 0.0021, [inpaint.id]: 0.0024, [outpaint.id]: 0.0038 };
  let billed = 0;
  for (const job of [base, v15, inpaint, outpaint]) {
    expect(job.estimated_cost_usd).toBe(expected[job.id]);
    const done = await stack.waitForJob(job.id);
    expect(done.cost_usd).toBe(done.estimated_cost_usd);
    billed += done.cost_usd;
  }
  expect((await stack.simStats()).billed_usd).toBeCloseTo(billed, 9);

  const byModel = (await stack.api("GET", "/v1/spend?group_by=model")).body;
  const jobs = (await stack.api("GET", "/v1/jobs?limit=100")).body.data;
  const sumOfJobs = jobs.reduce((sum: number, j: { cost_usd: number | null }) => sum + (j.cost_usd ?? 0), 0);
  expect(byModel.total.cost_usd).toBeCloseTo(sumOfJobs, 9);
  expect(byModel.data.reduce((sum: number, row: { cost_usd: number }) => sum + row.cost_usd, 0)).toBeCloseTo(sumOfJobs, 9);
  expect(byModel.total.jobs).toBe(4);
  const byDay = (await stack.api("GET", "/v1/spend?group_by=day")).body;
  expect(byDay.total.cost_usd).toBeCloseTo(sumOfJobs, 9);
});

it("rejects a bad budget with field-level details", async () => {
  const res = await stack.api("PUT", "/v1/budget", { limit_usd: -1, period: "week", timezone: "Mars/Olympus" });
  expect(res.status).toBe(400);
  expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(["limit_usd", "period", "timezone"]);
});
