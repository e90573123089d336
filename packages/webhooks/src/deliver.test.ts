import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAddressPolicy } from "@acebatch/pricing";
import { uniquePrefix } from "@acebatch/testing";
import { Redis } from "ioredis";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { attemptDelivery, type DeliverDeps } from "./deliver.ts";
import { createDeliveryStore } from "./delivery-store.ts";
import { createEndpointStore } from "./endpoint-store.ts";
import { generateSecret } from "./signing.ts";

let redis: Redis;
const servers: Server[] = [];
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});
afterAll(async () => {
  await redis.quit();
});

/** A local receiver answering each request with `answer(n)` (n counts from 1). */
async function receiver(answer: (n: number) => { status: number; headers?: Record<string, string>; delayMs?: number }) {
  const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ headers: req.headers, body });
      const a = answer(seen.length);
      setTimeout(() => {
        res.writeHead(a.status, a.headers);
        res.end(`answer ${a.status}`);
      }, a.delayMs ?? 0);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, seen };
}

async function setup(url: string, overrides: Partial<DeliverDeps> = {}) {
  const prefix = uniquePrefix("deliver");
  const deliveries = createDeliveryStore({ redis, prefix });
  const endpoints = createEndpointStore({ redis, prefix });
  const secret = generateSecret();
  const deps: DeliverDeps = {
    deliveries,
    endpoints,
    secret,
    policy: createAddressPolicy(["127.0.0.1"]),
    retryScheduleMs: [10, 20],
    timeoutMs: 2_000,
    ...overrides,
  };
  const id = `msg_${Math.random().toString(36).slice(2)}`;
  const body = JSON.stringify({ type: "job.completed", id: "evt_1", created_at: new Date().toISOString(), data: { id: "job_1" } });
  await deliveries.createIfAbsent({ id, event_id: "evt_1", event_type: "job.completed", subject_id: "job_1", endpoint_id: null, url, body, created_at: new Date().toISOString() });
  return { deps, id, body, secret, deliveries };
}

describe("attemptDelivery", () => {
  it("signs each attempt so the standardwebhooks verifier accepts it, with the same webhook-id on retries", async () => {
    const hook = await receiver((n) => ({ status: n === 1 ? 500 : 204 }));
    const { deps, id, body, secret, deliveries } = await setup(hook.url);
    expect(await attemptDelivery(deps, id, 1)).toMatchObject({ outcome: "retry", statusCode: 500, retryInMs: 10 });
    expect(await attemptDelivery(deps, id, 2)).toEqual({ outcome: "delivered", statusCode: 204 });
    expect(hook.seen).toHaveLength(2);
    for (const { headers, body: got } of hook.seen) {
      expect(got).toBe(body);
      expect(headers["webhook-id"]).toBe(id);
      expect(headers["content-type"]).toBe("application/json");
      expect(new Webhook(secret).verify(got, headers as Record<string, string>)).toEqual(JSON.parse(body));
    }
    expect(await deliveries.get(id)).toMatchObject({ status: "delivered", attempts: 2, last_status_code: 204 });
    // Already delivered: a duplicate run does nothing.
    expect(await attemptDelivery(deps, id, 3)).toEqual({ outcome: "skipped" });
    expect(hook.seen).toHaveLength(2);
  });

  it("is dead after the last scheduled retry", async () => {
    const hook = await receiver(() => ({ status: 503 }));
    const { deps, id, deliveries } = await setup(hook.url);
    expect((await attemptDelivery(deps, id, 1)).outcome).toBe("retry");
    expect((await attemptDelivery(deps, id, 2)).outcome).toBe("retry");
    expect(await attemptDelivery(deps, id, 3)).toMatchObject({ outcome: "dead", statusCode: 503 });
    expect(await deliveries.get(id)).toMatchObject({ status: "dead", attempts: 3, last_error: expect.stringContaining("HTTP 503") });
  });

  it("does not follow redirects", async () => {
    const target = await receiver(() => ({ status: 200 }));
    const hook = await receiver(() => ({ status: 302, headers: { location: target.url } }));
    const { deps, id } = await setup(hook.url);
    expect(await attemptDelivery(deps, id, 1)).toMatchObject({ outcome: "retry", statusCode: 302, error: expect.stringContaining("not followed") });
    expect(target.seen).toHaveLength(0);
  });

  it("gives up on a receiver that does not answer in time", async () => {
    const hook = await receiver(() => ({ status: 200, delayMs: 1_500 }));
    const { deps, id } = await setup(hook.url, { timeoutMs: 200 });
    expect(await attemptDelivery(deps, id, 1)).toMatchObject({ outcome: "retry", error: expect.stringContaining("no answer within 0.2 s") });
  });

  it("refuses private and loopback addresses that are not allowlisted, at once", async () => {
    const hook = await receiver(() => ({ status: 200 }));
    const { deps, id, deliveries } = await setup(hook.url, { policy: createAddressPolicy([]) });
    expect(await attemptDelivery(deps, id, 1)).toMatchObject({ outcome: "dead", error: expect.stringContaining("non-public") });
    expect(hook.seen).toHaveLength(0);
    expect((await deliveries.get(id))?.status).toBe("dead");

    const rebinding = await setup("http://internal.example/hook", {
      policy: createAddressPolicy([]),
      resolveHost: async () => [{ address: "10.0.0.7", family: 4 }],
    });
    expect(await attemptDelivery(rebinding.deps, rebinding.id, 1)).toMatchObject({ outcome: "dead", error: expect.stringContaining("10.0.0.7") });
  });

  it("signs endpoint deliveries with the endpoint's own secret", async () => {
    const hook = await receiver(() => ({ status: 200 }));
    const { deps, deliveries } = await setup(hook.url);
    const endpoint = (await deps.endpoints.create({ url: hook.url, events: ["job.completed"] }))!;
    const body = '{"type":"job.completed"}';
    await deliveries.createIfAbsent({ id: "msg_ep", event_id: "evt_2", event_type: "job.completed", subject_id: null, endpoint_id: endpoint.id, url: hook.url, body, created_at: new Date().toISOString() });
    expect((await attemptDelivery(deps, "msg_ep", 1)).outcome).toBe("delivered");
    expect(() => new Webhook(endpoint.secret).verify(body, hook.seen[0]!.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(deps.secret).verify(body, hook.seen[0]!.headers as Record<string, string>)).toThrow();
  });
});
