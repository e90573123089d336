import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ label: "faults", workerEnv: { PROVIDER_RPS: "0", PROVIDER_BACKOFF_BASE_MS: "100", PROVIDER_AUTH_PROBE_SECONDS: "0.3" } });
  await stack.startWorker();
  await stack.startWorker();
});
afterEach(async () => {
  await stack.sim("/__sim/reset", { method: "POST" });
  await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ sample_rate: 8000 }) });
});
afterAll(async () => {
  await stack?.close();
});

it("5xx on 20% of calls: every job completes", async () => {
  await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ fail: { rate_5xx: 0.2 }, fail_seed: 11 }) });
  const ids = await stack.submitMany(40);
  for (const id of ids) await stack.waitForJob(id, ["completed"], 60_000);
  expect((await stack.simStats()).served_5xx).toBeGreaterThan(0);
}, 90_000);

it("a provider input rejection fails at the first attempt with exit_class 65", async () => {
  await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ reject_tags_containing: "forbidden-genre" }) });
  const { body } = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "forbidden-genre", duration: 5 } });
  const failed = await stack.waitForJob(body.id, ["failed"]);
  expect(failed.attempts).toBe(1);
  expect(failed.error).toMatchObject({ code: "provider_rejected_input", exit_class: 65, retryable: false });
  expect(failed.error.message).toMatch(/forbidden-genre/);
});

it("a refused token (401) fails no job: the queue pauses, /readyz and /metrics say why (the API stays in service), and work resumes when it is accepted", async () => {
  await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ reject_tokens: true }) });
  const ids = await stack.submitMany(8);
  await new Promise((r) => setTimeout(r, 1_500));
  const readyz = await fetch(`${stack.baseUrl}/readyz`);
  const refused: any = await readyz.json();
  expect(readyz.status).toBe(200);
  expect(refused).toMatchObject({ status: "degraded", checks: { redis: "ok", provider: { status: "token_refused" } } });
  expect(await (await fetch(`${stack.baseUrl}/metrics`)).text()).toMatch(/^acebatch_provider_token_refused 1$/m);
  const during = await Promise.all(ids.map(async (id) => (await stack.api("GET", `/v1/jobs/${id}`)).body));
  expect(during.filter((job) => job.status === "failed")).toEqual([]);
  await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ reject_tokens: false }) });
  for (const id of ids) await stack.waitForJob(id, ["completed"], 30_000);
  expect(await (await fetch(`${stack.baseUrl}/readyz`)).json()).toMatchObject({ status: "ready", checks: { provider: { status: "ok" } } });
  expect(await (await fetch(`${stack.baseUrl}/metrics`)).text()).toMatch(/^acebatch_provider_token_refused 0$/m);
}, 60_000);

it("a download that is not audio fails the job with a clear code, stores nothing, and keeps the render's charge", async () => {
  await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ corrupt_downloads: true }) });
  const spentBefore: number = (await stack.api("GET", "/v1/budget")).body.spent_usd;
  const { body } = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "x", duration: 5 } });
  const failed = await stack.waitForJob(body.id, ["failed"]);
  expect(failed.error.code).toBe("download_not_audio");
  expect(failed.output).toBeNull();
  expect((await stack.api("GET", `/v1/jobs/${body.id}/audio`)).status).toBe(409);
  // The provider rendered (and billed) it: the ledger counts that spend, so budgets hold.
  const billed: number = (await stack.simStats()).billed_usd;
  expect(billed).toBeGreaterThan(0);
  const spent: number = (await stack.api("GET", "/v1/budget")).body.spent_usd;
  expect(Math.round((spent - spentBefore) * 1e6)).toBe(Math.round(billed * 1e6));
});

it("an expired provider request (404001) fails with that code instead of being retried forever", async () => {
  // Renders take 5 s and results expire 1 ms after they finish, so whichever call first looks after
  // the render (status, or the result fetch right behind a "completed") finds the request gone.
  // (With 50 ms, a poll landing just after the render fetched the result in time: a flaky run.)
  await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ speed: 1, result_ttl_seconds: 0.001 }) });
  const { body } = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "x", duration: 5 } });
  const failed = await stack.waitForJob(body.id, ["failed"], 30_000);
  expect(failed.error).toMatchObject({ code: "provider_request_expired", retryable: false });
  expect((await stack.simStats()).submits).toBe(1);
}, 45_000);
