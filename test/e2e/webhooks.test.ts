import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { waitFor } from "@acebatch/testing";
import { generateSecret } from "@acebatch/webhooks";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, startStack, type Stack } from "../support/stack.ts";

const SECRET = generateSecret();
/** 5 retries, compressed from the production schedule (about 3 hours): 6 attempts in about a second. */
const RETRIES_MS = [100, 150, 200, 250, 300];

let stack: Stack;
let worker: Awaited<ReturnType<Stack["startWorker"]>>;
beforeAll(async () => {
  stack = await startStack({
    label: "webhooks",
    env: {
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_RETRY_SCHEDULE_MS: RETRIES_MS.join(","),
      WEBHOOK_ALLOW_PRIVATE_HOSTS: "127.0.0.1",
      WEBHOOK_RECONCILE_SECONDS: "0.5",
    },
    workerEnv: { PROVIDER_AUTH_PROBE_SECONDS: "0.3", PROVIDER_BACKOFF_BASE_MS: "100" },
  });
  worker = await stack.startWorker();
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  await stack.sim("/__sim/reset", { method: "POST" });
  await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ sample_rate: 8000 }) });
});
afterAll(async () => {
  await stack?.close();
});

interface Received {
  id: string;
  timestamp: string;
  body: string;
  status: number;
  /** The payload as the standardwebhooks verifier returned it; null when verification threw. */
  verified: any;
  verifyError: string | null;
}

const receivers: { close: () => Promise<void> }[] = [];

/**
 * A local webhook receiver that checks every delivery with the standardwebhooks library and
 * answers with `answer(n)` (n counts requests from 1).
 */
async function startReceiver(secret: string | (() => string), answer: (n: number) => number = () => 200) {
  const requests: Received[] = [];
  let respond = answer;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const headers = req.headers as Record<string, string>;
      let verified: unknown = null;
      let verifyError: string | null = null;
      try {
        verified = new Webhook(typeof secret === "string" ? secret : secret()).verify(body, headers);
      } catch (err) {
        verifyError = (err as Error).message;
      }
      const status = respond(requests.length + 1);
      requests.push({ id: headers["webhook-id"]!, timestamp: headers["webhook-timestamp"]!, body, status, verified, verifyError });
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status < 300 ? "ok" : "nope");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/acebatch`,
    requests,
    answer(fn: (n: number) => number) {
      respond = fn;
    },
    delivered: () => requests.filter((r) => r.status >= 200 && r.status < 300),
    /** Every request so far passed the standardwebhooks verifier. */
    allVerified: () => requests.every((r) => r.verifyError === null && r.verified !== null),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  receivers.push(receiver);
  return receiver;
}

async function submit(tags: string, webhookUrl?: string) {
  const res = await stack.api("POST", "/v1/jobs", {
    model: "acestep-ai/ace-step/text-to-audio",
    input: { tags, duration: 5 },
    ...(webhookUrl ? { webhook_url: webhookUrl } : {}),
  });
  expect(res.status).toBe(202);
  return res.body.id as string;
}

/** A delivery's record once it is no longer pending: it is written when the receiver's answer is back, a moment after the receiver saw the request. */
function settledDelivery(id: string) {
  return waitFor(
    async () => {
      const r = await stack.api("GET", `/v1/webhooks/deliveries/${id}`);
      return r.body.status === "pending" ? undefined : r;
    },
    { timeoutMs: 10_000, message: `delivery ${id} to leave pending` },
  );
}

describe("webhooks", () => {
  it("delivers job.completed to the job's webhook_url, signed so the standardwebhooks verifier accepts it", async () => {
    const hook = await startReceiver(SECRET);
    const jobId = await submit("webhook, lo-fi", hook.url);
    await waitFor(() => hook.delivered().length > 0, { timeoutMs: 20_000, message: "the delivery" });
    expect(hook.allVerified()).toBe(true);
    const [got] = hook.requests;
    expect(got!.verified).toMatchObject({
      type: "job.completed",
      id: expect.stringMatching(/^evt_/),
      data: { id: jobId, status: "completed", model: "acestep-ai/ace-step/text-to-audio", cost_usd: 0.001, output: { url: `${stack.baseUrl}/v1/jobs/${jobId}/audio` } },
    });
    expect(Math.abs(Number(got!.timestamp) - Date.now() / 1_000)).toBeLessThan(60);
    const record = await settledDelivery(got!.id);
    expect(record.body).toMatchObject({ id: got!.id, status: "delivered", attempts: 1, last_status_code: 200, subject_id: jobId, endpoint_id: null });
    // Exactly once, however many dispatchers saw the event.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(hook.requests).toHaveLength(1);
  });

  it("retries a receiver that fails 3 times and delivers on the 4th try, with the same webhook-id", async () => {
    const hook = await startReceiver(SECRET, (n) => (n <= 3 ? 500 : 200));
    const jobId = await submit("webhook, flaky receiver", hook.url);
    await waitFor(() => hook.delivered().length > 0, { timeoutMs: 20_000, message: "the 4th attempt" });
    expect(hook.requests.map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(hook.allVerified()).toBe(true);
    expect(new Set(hook.requests.map((r) => r.id)).size).toBe(1);
    expect(new Set(hook.requests.map((r) => r.body)).size).toBe(1);
    const record = await settledDelivery(hook.requests[0]!.id);
    expect(record.body).toMatchObject({ status: "delivered", attempts: 4, last_status_code: 200, subject_id: jobId });
  });

  it("lists a permanently failing delivery as dead after the last retry, and a replay delivers it", async () => {
    const hook = await startReceiver(SECRET, () => 503);
    const jobId = await submit("webhook, dead receiver", hook.url);
    const dead = await waitFor(
      async () => {
        const { body } = await stack.api("GET", "/v1/webhooks/deliveries?status=dead");
        return body.data.find((d: any) => d.subject_id === jobId);
      },
      { timeoutMs: 20_000, intervalMs: 100, message: "the dead delivery" },
    );
    expect(dead).toMatchObject({ status: "dead", attempts: RETRIES_MS.length + 1, last_status_code: 503, url: hook.url, event: { type: "job.completed" } });
    expect(dead.last_error).toMatch(/HTTP 503/);
    expect(hook.requests).toHaveLength(RETRIES_MS.length + 1);

    hook.answer(() => 200);
    const replay = await stack.api("POST", `/v1/webhooks/deliveries/${dead.id}/replay`);
    expect(replay.status).toBe(202);
    await waitFor(() => hook.delivered().length > 0, { timeoutMs: 10_000, message: "the replayed delivery" });
    expect(hook.allVerified()).toBe(true);
    expect(hook.delivered()[0]!.id).toBe(dead.id);
    const after = await waitFor(async () => {
      const { body } = await stack.api("GET", `/v1/webhooks/deliveries/${dead.id}`);
      return body.status === "delivered" ? body : undefined;
    });
    expect(after).toMatchObject({ replays: 1, attempts: RETRIES_MS.length + 2, dead_at: null });
    const { body: deadList } = await stack.api("GET", "/v1/webhooks/deliveries?status=dead");
    expect(deadList.data.map((d: any) => d.id)).not.toContain(dead.id);
    expect((await stack.api("POST", "/v1/webhooks/deliveries/msg_unknown/replay")).status).toBe(404);
  });

  it("sends account-level endpoints only the event types they subscribed to", async () => {
    await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ reject_tags_containing: "forbidden-genre" }) });
    // Each endpoint signs with its own secret, generated and shown once when it is created.
    const secrets = { completed: "", failed: "" };
    const completions = await startReceiver(() => secrets.completed);
    const failures = await startReceiver(() => secrets.failed);
    const a = await stack.api("POST", "/v1/webhooks", { url: completions.url, events: ["job.completed"], description: "completions" });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ id: expect.stringMatching(/^whk_/), url: completions.url, events: ["job.completed"], description: "completions" });
    expect(a.body.secret).toMatch(/^whsec_/);
    const b = await stack.api("POST", "/v1/webhooks", { url: failures.url, events: ["job.failed"] });
    secrets.completed = a.body.secret;
    secrets.failed = b.body.secret;
    const listed = await stack.api("GET", "/v1/webhooks");
    expect(listed.body.data.map((e: any) => e.id)).toEqual(expect.arrayContaining([a.body.id, b.body.id]));
    expect(listed.body.data.every((e: any) => e.secret === undefined)).toBe(true);

    const okJob = await submit("endpoint filter, ok");
    const badJob = await submit("forbidden-genre");
    await stack.waitForJob(okJob);
    await stack.waitForJob(badJob, ["failed"]);
    await waitFor(() => completions.delivered().some((r) => r.verified?.data?.id === okJob), { timeoutMs: 10_000, message: "job.completed at its endpoint" });
    await waitFor(() => failures.delivered().some((r) => r.verified?.data?.id === badJob), { timeoutMs: 10_000, message: "job.failed at its endpoint" });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(completions.allVerified() && failures.allVerified()).toBe(true);
    expect(completions.requests.map((r) => r.verified.type)).toEqual(["job.completed"]);
    expect(failures.requests.map((r) => r.verified)).toMatchObject([{ type: "job.failed", data: { id: badJob, error: { code: "provider_rejected_input" } } }]);

    // A deleted endpoint receives nothing more.
    expect((await stack.api("DELETE", `/v1/webhooks/${a.body.id}`)).body).toMatchObject({ id: a.body.id, deleted: true });
    expect((await stack.api("DELETE", `/v1/webhooks/${a.body.id}`)).status).toBe(404);
    await stack.waitForJob(await submit("endpoint filter, after delete"));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(completions.requests).toHaveLength(1);
    await stack.api("DELETE", `/v1/webhooks/${b.body.id}`);

    const bad = await stack.api("POST", "/v1/webhooks", { url: "ftp://example.com/x", events: ["job.exploded"] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: any) => d.path)).toEqual(expect.arrayContaining(["url", "events.0"]));
  });

  it("sends batch.completed once, with the batch's counts and spend, when its last job finishes", async () => {
    const hook = await startReceiver(SECRET);
    const endpoint = await stack.api("POST", "/v1/webhooks", { url: hook.url, events: ["batch.completed"], secret: SECRET });
    const res = await fetch(`${stack.baseUrl}/v1/batches?model=acestep-ai/ace-step/text-to-audio`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "text/csv" },
      body: "tags,duration\nbatch hook a,5\nbatch hook b,5\nbatch hook c,5\n",
    });
    expect(res.status).toBe(201);
    const batch: any = await res.json();
    await waitFor(() => hook.delivered().length > 0, { timeoutMs: 20_000, message: "batch.completed" });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(hook.allVerified()).toBe(true);
    expect(hook.requests.map((r) => r.verified)).toMatchObject([
      { type: "batch.completed", data: { id: batch.id, status: "completed", accepted: 3, counts: { completed: 3, queued: 0, in_progress: 0 }, spent_usd: 0.003 } },
    ]);
    await stack.api("DELETE", `/v1/webhooks/${endpoint.body.id}`);
  });

  it("sends batch.completed to the batch's own webhook_url, signed with WEBHOOK_SECRET", async () => {
    const hook = await startReceiver(SECRET);
    const res = await fetch(`${stack.baseUrl}/v1/batches?model=acestep-ai/ace-step/text-to-audio&webhook_url=${encodeURIComponent(hook.url)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "text/csv" },
      body: "tags,duration\nown hook a,5\nown hook b,5\n",
    });
    expect(res.status).toBe(201);
    const batch: any = await res.json();
    expect(batch.webhook_url).toBe(hook.url);
    await waitFor(() => hook.delivered().length > 0, { timeoutMs: 20_000, message: "batch.completed at the batch's webhook_url" });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(hook.allVerified()).toBe(true);
    expect(hook.requests.map((r) => r.verified)).toMatchObject([{ type: "batch.completed", data: { id: batch.id, status: "completed", counts: { completed: 2 } } }]);
  });

  it("tells provider.auth_failed subscribers once when the provider refuses the token", async () => {
    const hook = await startReceiver(SECRET);
    const endpoint = await stack.api("POST", "/v1/webhooks", { url: hook.url, events: ["provider.auth_failed"], secret: SECRET });
    await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ reject_tokens: true }) });
    const ids = await stack.submitMany(3);
    await waitFor(() => hook.delivered().length > 0, { timeoutMs: 10_000, message: "provider.auth_failed" });
    await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ reject_tokens: false }) });
    for (const id of ids) await stack.waitForJob(id, ["completed"], 20_000);
    expect(hook.allVerified()).toBe(true);
    expect(hook.requests.map((r) => r.verified)).toMatchObject([{ type: "provider.auth_failed", data: { since: expect.any(String) } }]);
    await stack.api("DELETE", `/v1/webhooks/${endpoint.body.id}`);
  });

  it("still delivers an event that happened while no worker was listening", async () => {
    const hook = await startReceiver(SECRET);
    // With the only worker stopped, nobody hears the job.status message of this cancellation.
    await stack.stopWorker(worker);
    const jobId = await submit("cancelled while nobody listens", hook.url);
    expect((await stack.api("POST", `/v1/jobs/${jobId}/cancel`)).body.status).toBe("cancelled");
    await new Promise((r) => setTimeout(r, 500));
    expect(hook.requests).toHaveLength(0);
    worker = await stack.startWorker();
    await waitFor(() => hook.delivered().length > 0, { timeoutMs: 10_000, message: "the reconciled delivery" });
    expect(hook.allVerified()).toBe(true);
    expect(hook.requests[0]!.verified).toMatchObject({ type: "job.cancelled", data: { id: jobId, status: "cancelled" } });
  });
});
