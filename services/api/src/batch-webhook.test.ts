import { createDeliveryStore, createEndpointStore, createEventRouter, createWebhookQueue } from "@acebatch/webhooks";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { makeBatchTestApp, multipartBody, T2A, type BatchTestApp } from "./batch-test-support.ts";

const HOOK = "https://hooks.example/batches?team=audio";
const hookQuery = `webhook_url=${encodeURIComponent(HOOK)}`;

let t: BatchTestApp;
beforeEach(async () => {
  t = await makeBatchTestApp({ label: "batch-webhook", redisUrl: inject("redisUrl") });
});
afterEach(async () => {
  await t?.close();
});

describe("a batch's webhook_url", () => {
  it("is taken by every upload form, shown by GET /v1/batches/{id}, and kept by the retry batch", async () => {
    const csv = await t.upload(`/v1/batches?model=${T2A}&${hookQuery}`, "tags,duration\na,5\nb,5\n");
    expect(csv.statusCode).toBe(201);
    expect(csv.json()).toMatchObject({ source: "csv", webhook_url: HOOK });

    const ndjson = await t.upload(`/v1/batches?model=${T2A}&${hookQuery}`, JSON.stringify({ input: { tags: "c", duration: 5 } }), "application/x-ndjson");
    expect(ndjson.json()).toMatchObject({ source: "ndjson", webhook_url: HOOK });

    const form = multipartBody("file", "rows.csv", "tags,duration\nd,5\n");
    const multipart = await t.upload(`/v1/batches?model=${T2A}&${hookQuery}`, form.body, form.contentType);
    expect(multipart.json()).toMatchObject({ source: "csv", webhook_url: HOOK });

    const combos = await t.post("/v1/batches", { model: T2A, input: { duration: 5 }, axes: { genre: ["house"] }, webhook_url: "https://hooks.example/combos" });
    expect(combos.statusCode).toBe(201);
    expect(combos.json()).toMatchObject({ source: "combos", webhook_url: "https://hooks.example/combos" });

    const id = csv.json().id as string;
    expect((await t.get(`/v1/batches/${id}`)).json()).toMatchObject({ id, webhook_url: HOOK });
    const listed = (await t.get("/v1/batches")).json().data as { id: string; webhook_url: string | null }[];
    expect(listed.find((b) => b.id === id)?.webhook_url).toBe(HOOK);

    await t.finishRow(id, 1, "completed");
    await t.finishRow(id, 2, "failed");
    const retry = await t.post(`/v1/batches/${id}/retry`);
    expect(retry.statusCode).toBe(201);
    expect(retry.json()).toMatchObject({ retry_of: id, webhook_url: HOOK });
  });

  it("is validated like a job's webhook_url, and a misspelt query parameter is a 400 naming it", async () => {
    const badUrl = await t.upload(`/v1/batches?model=${T2A}&webhook_url=ftp%3A%2F%2Fhooks.example%2Fx`, "tags\na\n");
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json().error).toMatchObject({ code: "invalid_input", details: [{ path: "query.webhook_url", message: "webhook_url must be an http(s) URL" }] });

    const typo = await t.upload(`/v1/batches?model=${T2A}&webhok_url=${encodeURIComponent(HOOK)}`, "tags\na\n");
    expect(typo.statusCode).toBe(400);
    expect(typo.json().error.details).toEqual([expect.objectContaining({ path: "query.webhok_url", message: expect.stringContaining("webhok_url") })]);

    const badBody = await t.post("/v1/batches", { model: T2A, input: { duration: 5 }, axes: { genre: ["house"] }, webhook_url: "not a url" });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json().error.details).toEqual([expect.objectContaining({ path: "webhook_url" })]);

    expect(await t.queues.generate.count()).toBe(0);
    expect((await t.get("/v1/batches")).json().data).toEqual([]);
  });

  it("still takes every query parameter the dashboard and the CLI send", async () => {
    const query = new URLSearchParams({ dry_run: "false", on_invalid: "skip", model: T2A, name: "drafts.csv", max_cost_usd: "1", webhook_url: HOOK });
    const res = await t.upload(`/v1/batches?${query}`, "tags,duration\na,5\n");
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: "drafts.csv", max_cost_usd: 1, on_invalid: "skip", webhook_url: HOOK });
  });

  it("receives batch.completed once every row has finished", async () => {
    const queue = createWebhookQueue(t.queueRedis, t.prefix);
    try {
      const deliveries = createDeliveryStore({ redis: t.redis, prefix: t.prefix });
      const router = createEventRouter({
        redis: t.redis,
        prefix: t.prefix,
        endpoints: createEndpointStore({ redis: t.redis, prefix: t.prefix }),
        deliveries,
        queue,
        publicBaseUrl: "http://127.0.0.1:8080",
      });
      const id = (await t.upload(`/v1/batches?model=${T2A}&${hookQuery}`, "tags,duration\na,5\nb,5\n")).json().id as string;
      await t.finishRow(id, 1, "completed");
      await router.jobFinished(await t.finishRow(id, 2, "failed"));

      const pending = (await deliveries.list("pending", 10)).records;
      expect(pending.map((d) => [d.url, d.event_type, d.subject_id])).toEqual([[HOOK, "batch.completed", id]]);
      expect(JSON.parse(pending[0]!.body)).toMatchObject({ type: "batch.completed", data: { id, status: "completed", counts: { completed: 1, failed: 1 } } });
    } finally {
      await queue.close();
    }
  });
});
