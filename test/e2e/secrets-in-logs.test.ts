import { Writable } from "node:stream";
import { createLogger } from "@acebatch/config";
import { waitFor } from "@acebatch/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ADMIN_KEY, startStack, type Stack } from "../support/stack.ts";

/**
 * A full run (API in this process, a worker process, the simulator) with a known provider token and a
 * known API key: neither, nor the admin key, may appear in any log line of the API or the worker.
 */
const PROVIDER_TOKEN = "rc-e2e-token-Q7vX2mLp9s";
const apiLines: string[] = [];
let stack: Stack;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      apiLines.push(String(chunk));
      done();
    },
  });
  stack = await startStack({
    label: "secrets-in-logs",
    apiLogger: createLogger({ name: "api-secrets", level: "trace" }, sink),
    workerEnv: { RUNCOMFY_TOKEN: PROVIDER_TOKEN, LOG_LEVEL: "debug" },
    simulatorConfig: { require_token: true },
  });
});
afterAll(async () => {
  await stack?.close();
});

it("never logs the provider token, a stored API key or the admin key", async () => {
  const worker = await stack.startWorker();
  const created = await stack.api("POST", "/v1/keys", { name: "e2e", scopes: ["jobs:write", "jobs:read"] });
  expect(created.status).toBe(201);
  const key: string = created.body.key;
  const asKey = { authorization: `Bearer ${key}` };

  // Some throttling and 5xx on the way, so the worker's error paths log too.
  await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ retry_after_seconds: 1, fail: { rate_429: 0.2, rate_5xx: 0.1 }, fail_seed: 3 }) });
  const ids: string[] = [];
  for (const tags of ["lo-fi, mellow", "synthwave"]) {
    const res = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags, duration: 5 } }, asKey);
    expect(res.status).toBe(202);
    ids.push(res.body.id);
  }
  // Every provider call with the token has happened once the simulator has served both downloads
  // (what the worker does with the files afterwards is other tests' business).
  await waitFor(async () => ((await stack.simStats()).downloads >= ids.length ? true : undefined), { timeoutMs: 60_000, message: "the worker did not fetch both results" });
  const job = await stack.api("GET", `/v1/jobs/${ids[0]}`, undefined, asKey);
  expect(job.status).toBe(200);
  if (job.body.status === "completed") {
    const audio = await fetch(`${stack.baseUrl}/v1/jobs/${ids[0]}/audio`, { headers: asKey });
    expect(audio.status).toBe(200);
    await audio.arrayBuffer();
  }
  expect((await fetch(`${stack.baseUrl}/admin/queues?key=${key}`, { redirect: "manual" })).status).toBe(403);
  expect((await stack.api("GET", "/v1/jobs", undefined, { authorization: `Bearer ${PROVIDER_TOKEN}` })).status).toBe(401);
  await stack.stopWorker(worker);

  const apiLog = apiLines.join("");
  const workerLog = worker.output();
  // Both logs are real and say what happened.
  expect(apiLog).toContain(`"jobId":"${ids[0]}"`);
  expect(apiLog).toContain("?key=[redacted]");
  expect(workerLog).toContain("worker ready");
  expect(workerLog).toContain(ids[0]);
  for (const [name, log] of [["api", apiLog], ["worker", workerLog]] as const) {
    for (const secret of [PROVIDER_TOKEN, key, ADMIN_KEY]) expect(log.includes(secret), `${name} log contains ${secret.slice(0, 6)}…`).toBe(false);
  }
}, 120_000);
