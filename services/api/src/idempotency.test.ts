import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { makeTestApp, TEST_ADMIN_KEY } from "./test-app.ts";

const T2A = "acestep-ai/ace-step/text-to-audio";
let t: Awaited<ReturnType<typeof makeTestApp>>;
beforeAll(async () => {
  t = await makeTestApp({ label: "idem", redisUrl: inject("redisUrl") });
});
afterAll(async () => {
  await t.close();
});

describe("Idempotency-Key belongs to the API key that sent it", () => {
  it("two clients picking the same key value get their own jobs, and each a replay of its own", async () => {
    const alice = (await t.createKey(["jobs:write"])).key;
    const bob = (await t.createKey(["jobs:write"])).key;
    const body = { model: T2A, input: { tags: "jingle", duration: 10 } };
    const idem = { "idempotency-key": "order-1" };

    const a = await t.call("POST", "/v1/jobs", alice, body, idem);
    const b = await t.call("POST", "/v1/jobs", bob, body, idem);
    const admin = await t.call("POST", "/v1/jobs", TEST_ADMIN_KEY, { ...body, input: { tags: "other" } }, idem);
    expect([a.statusCode, b.statusCode, admin.statusCode]).toEqual([202, 202, 202]);
    expect(new Set([a.json().id, b.json().id, admin.json().id]).size).toBe(3);

    const againA = await t.call("POST", "/v1/jobs", alice, body, idem);
    expect(againA.statusCode).toBe(200);
    expect(againA.json().id).toBe(a.json().id);
    // A different body under the same key value is a conflict only within one client.
    expect((await t.call("POST", "/v1/jobs", bob, { ...body, input: { tags: "changed" } }, idem)).statusCode).toBe(409);
  });

  it("the same holds for batch uploads", async () => {
    const alice = (await t.createKey(["batches"])).key;
    const bob = (await t.createKey(["batches"])).key;
    const upload = (key: string) => t.call("POST", `/v1/batches?model=${T2A}`, key, "tags\nlo-fi\n", { "content-type": "text/csv", "idempotency-key": "upload-1" });
    const a = await upload(alice);
    const b = await upload(bob);
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(a.json().id).not.toBe(b.json().id);
    const again = await upload(alice);
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(a.json().id);
  });
});
