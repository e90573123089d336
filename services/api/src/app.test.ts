import { newId } from "@acebatch/contracts";
import { createJobStore } from "@acebatch/queue";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { makeTestApp, TEST_ADMIN_KEY as ADMIN_KEY } from "./test-app.ts";
const T2A = "acestep-ai/ace-step/text-to-audio";

async function makeApp() {
  const base = await makeTestApp({ label: "api", redisUrl: inject("redisUrl") });
  const auth = { authorization: `Bearer ${ADMIN_KEY}` };
  return {
    ...base,
    post: (url: string, payload: unknown, headers: Record<string, string> = {}) =>
      base.app.inject({ method: "POST", url, payload: payload as object, headers: { ...auth, ...headers } }),
    get: (url: string) => base.app.inject({ method: "GET", url, headers: auth }),
  };
}

let t: Awaited<ReturnType<typeof makeApp>>;
beforeEach(async () => {
  t = await makeApp();
});
afterEach(async () => {
  await t.close();
});

describe("POST /v1/jobs", () => {
  it("accepts a job with the provider defaults applied and enqueues it", async () => {
    const res = await t.post("/v1/jobs", { model: T2A, input: { tags: "lo-fi, mellow" } });
    expect(res.statusCode).toBe(202);
    const job = res.json();
    expect(job).toMatchObject({ model: T2A, status: "queued", input: { tags: "lo-fi, mellow", duration: 60, seed: -1 }, provider: { request_id: null } });
    expect(job.id).toMatch(/^job_/);
    expect(await t.queues.generate.getJob(job.id)).toBeTruthy();
    expect((await t.get(`/v1/jobs/${job.id}`)).json().id).toBe(job.id);
  });

  it.each([
    ["missing tags", { model: T2A, input: { duration: 30 } }, ["input.tags"]],
    ["duration 4", { model: T2A, input: { tags: "x", duration: 4 } }, ["input.duration"]],
    ["duration 241", { model: T2A, input: { tags: "x", duration: 241 } }, ["input.duration"]],
    [
      "a bad *_relative_to",
      { model: "acestep-ai/ace-step/audio-inpaint", input: { tags: "x", audio: "https://cdn.example/a.mp3", end_time_relative_to: "middle" } },
      ["input.end_time_relative_to"],
    ],
    ["a non-https audio", { model: "acestep-ai/ace-step/audio-outpaint", input: { tags: "x", audio: "http://cdn.example/a.mp3" } }, ["input.audio"]],
    ["an unknown model", { model: "acestep-ai/ace-step-9/text-to-audio", input: { tags: "x" } }, ["model"]],
    ["several bad fields at once", { model: T2A, input: { duration: 999, seed: -7, colour: "red" } }, ["input.tags", "input.duration", "input.seed", "input.colour"]],
    ["a bad input beside a bad webhook_url", { model: T2A, input: { duration: 999 }, webhook_url: "ftp://x" }, ["input.tags", "input.duration", "webhook_url"]],
    [
      "a bad input beside bad metadata and finish",
      { model: "acestep-ai/ace-step/audio-outpaint", input: { tags: "x" }, metadata: { team: [1] }, finish: { fade_in_seconds: 99 } },
      ["input.audio", "metadata.team", "finish.fade_in_seconds"],
    ],
    ["an unknown model beside a bad webhook_url (no input schema to apply)", { model: "acestep-ai/nope", input: { duration: 999 }, webhook_url: "ftp://x" }, ["model", "webhook_url"]],
    ["an unknown model without an input", { model: "acestep-ai/nope", webhook_url: "ftp://x" }, ["model", "input", "webhook_url"]],
  ])("rejects %s with 400 naming each bad field, and enqueues nothing", async (_label, body, paths) => {
    const res = await t.post("/v1/jobs", body);
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe("invalid_input");
    expect(error.details.map((d: { path: string }) => d.path).sort()).toEqual([...paths].sort());
    expect(await t.queues.generate.count()).toBe(0);
  });

  it("rejects a body that is not JSON with 400", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/v1/jobs",
      payload: "{not json",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("invalid_json");
  });

  it("rejects a 5 MB body with 413", async () => {
    const res = await t.post("/v1/jobs", { model: T2A, input: { tags: "x".repeat(5 * 1024 * 1024) } });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe("payload_too_large");
    expect(await t.queues.generate.count()).toBe(0);
  });

  it("refuses a source job that is not completed", async () => {
    const first = (await t.post("/v1/jobs", { model: T2A, input: { tags: "x" } })).json();
    const res = await t.post("/v1/jobs", { model: "acestep-ai/ace-step/audio-outpaint", input: { tags: "x", audio: first.id } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0]).toMatchObject({ path: "input.audio" });
    const missing = await t.post("/v1/jobs", { model: "acestep-ai/ace-step/audio-outpaint", input: { tags: "x", audio: newId("job") } });
    expect(missing.json().error.details[0].message).toMatch(/does not exist/);
  });

  it("refuses an outpaint whose source plus extensions passes the provider's 240 s, naming the extension", async () => {
    const store = createJobStore({ redis: t.redis, prefix: t.prefix });
    const source = newId("job");
    await store.create({ id: source, model: T2A, input: { tags: "x" }, created_at: new Date().toISOString() });
    const output = { storage_key: `jobs/${source}/audio.wav`, format: "wav", content_type: "audio/wav", duration_seconds: 200, bytes: 1, sha256: "0".repeat(64), seed: 1 };
    await store.transition(source, { from: "*", to: "completed", set: { output } });
    const outpaint = (before: number, after: number) =>
      t.post("/v1/jobs", { model: "acestep-ai/ace-step/audio-outpaint", input: { tags: "x", audio: source, extend_before_duration: before, extend_after_duration: after } });
    const tooLong = await outpaint(10, 31);
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.details).toEqual([{ path: "input.extend_after_duration", message: expect.stringMatching(/241 s .*at or under 240 s/) }]);
    expect(await t.queues.generate.count()).toBe(0);
    const exactly = await outpaint(10, 30);
    expect(exactly.statusCode).toBe(202);
    expect(exactly.json().estimated_cost_usd).toBeCloseTo(240 * 0.0002, 9);
  });

  it("returns the original job for a repeated Idempotency-Key and 409 for a different body", async () => {
    const body = { model: T2A, input: { tags: "jingle", duration: 10 } };
    const first = await t.post("/v1/jobs", body, { "idempotency-key": "k-1" });
    const again = await t.post("/v1/jobs", { input: { duration: 10, tags: "jingle" }, model: T2A }, { "idempotency-key": "k-1" });
    const other = await t.post("/v1/jobs", { model: T2A, input: { tags: "other" } }, { "idempotency-key": "k-1" });
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe("idempotency_conflict");
    expect(await t.queues.generate.count()).toBe(1);
  });
});

describe("auth and lookups", () => {
  it("answers 401 without a key or with a wrong one, in the error format", async () => {
    const none = await t.app.inject({ method: "GET", url: "/v1/jobs" });
    const wrong = await t.app.inject({ method: "GET", url: "/v1/jobs", headers: { authorization: "Bearer nope" } });
    expect(none.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(none.json().error.code).toBe("unauthorized");
  });

  it("answers 404 for an unknown job and lists jobs newest first", async () => {
    expect((await t.get(`/v1/jobs/${newId("job")}`)).statusCode).toBe(404);
    const a = (await t.post("/v1/jobs", { model: T2A, input: { tags: "a" } })).json();
    const b = (await t.post("/v1/jobs", { model: T2A, input: { tags: "b" } })).json();
    const list = (await t.get("/v1/jobs?limit=1")).json();
    expect(list.data.map((j: { id: string }) => j.id)).toEqual([b.id]);
    const next = (await t.get(`/v1/jobs?limit=1&cursor=${list.next_cursor}`)).json();
    expect(next.data.map((j: { id: string }) => j.id)).toEqual([a.id]);
    expect((await t.get("/v1/jobs?status=bogus")).json().error.details[0].path).toBe("query.status");
  });

  it("answers a cursor that no page gave out with 400 naming query.cursor, not with an empty page", async () => {
    const job = (await t.post("/v1/jobs", { model: T2A, input: { tags: "a" } })).json();
    for (const cursor of ["garbage", "job_", "bat_01jd8x0000000000000000000z", `${job.id}x`]) {
      const res = await t.get(`/v1/jobs?cursor=${encodeURIComponent(cursor)}`);
      expect(res.statusCode, cursor).toBe(400);
      expect(res.json().error.details, cursor).toEqual([{ path: "query.cursor", message: expect.stringMatching(/next_cursor value from an earlier page/) }]);
    }
    // A batch row's id (a derived job id) is a cursor too.
    expect((await t.get(`/v1/jobs?cursor=${job.id}-0000042-002`)).statusCode).toBe(200);
  });

  it("cancels a queued job at once and removes it from the queue", async () => {
    const job = (await t.post("/v1/jobs", { model: T2A, input: { tags: "a" } })).json();
    const res = await t.post(`/v1/jobs/${job.id}/cancel`, {});
    expect(res.json()).toMatchObject({ status: "cancelled", error: { code: "cancelled" } });
    expect(await t.queues.generate.getJob(job.id)).toBeUndefined();
  });

  it("serves health without auth", async () => {
    expect((await t.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    expect((await t.app.inject({ method: "GET", url: "/readyz" })).json()).toMatchObject({ status: "ready" });
  });
});

describe("paths the router refuses before any route runs", () => {
  it("answers broken percent-encoding with 400 bad_url in the error format", async () => {
    const res = await t.get("/v1/jobs/%E0%A4%A");
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: "bad_url", message: expect.stringMatching(/percent-encoding/), details: [] } });
  });

  it("answers an over-long id with 414 path_too_long in the error format", async () => {
    const res = await t.get(`/v1/jobs/${"x".repeat(101)}`);
    expect(res.statusCode).toBe(414);
    expect(res.json()).toEqual({ error: { code: "path_too_long", message: expect.stringMatching(/longer than 100 characters/), details: [] } });
    expect((await t.get(`/v1/jobs/${"x".repeat(100)}`)).statusCode).toBe(404);
  });
});
