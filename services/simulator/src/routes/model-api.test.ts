import { describe, expect, it } from "vitest";

import { buildSimulator } from "../app.ts";
import { apiClient, makeSimulator, submitOk, T0, TOKEN } from "../test-support.ts";

const T2A = "acestep-ai/ace-step/text-to-audio";
const T2A_15 = "acestep-ai/ace-step-1.5/text-to-audio";
const INPAINT = "acestep-ai/ace-step/audio-inpaint";
const OUTPAINT = "acestep-ai/ace-step/audio-outpaint";

describe("submit → status → result", () => {
  it.each([
    [T2A, 0.006],
    [T2A_15, 0.009],
  ])("%s goes in_queue → in_progress → completed after duration / speed seconds", async (model, cost) => {
    const { api, clock, state } = makeSimulator({ config: { speed: 10 } });
    const submitted = await api.submit(model, { tags: "lo-fi, 90 BPM", duration: 30 });
    expect(submitted.statusCode).toBe(200);
    const body = submitted.json();
    expect(body).toMatchObject({ status: "in_queue", request_id: expect.any(String) });
    const id = body.request_id as string;
    expect(body.status_url).toBe(`http://localhost:80/v1/requests/${id}/status`);
    expect(body.result_url).toBe(`http://localhost:80/v1/requests/${id}/result`);
    expect(body.cancel_url).toBe(`http://localhost:80/v1/requests/${id}/cancel`);

    expect((await api.status(id)).json()).toEqual({ request_id: id, status: "in_progress" });
    const running = (await api.result(id)).json();
    expect(running).toMatchObject({ status: "in_progress", output: null, finished_at: null, error: null });

    clock.advance(2_999);
    expect((await api.status(id)).json().status).toBe("in_progress");
    clock.advance(1);
    expect((await api.status(id)).json()).toEqual({ request_id: id, status: "completed" });

    const result = (await api.result(id, true)).json();
    expect(result).toEqual({
      request_id: id,
      status: "completed",
      output: { audio: `http://localhost:80/files/${id}.wav` },
      created_at: new Date(T0).toISOString(),
      finished_at: new Date(T0 + 3_000).toISOString(),
      error: null,
      cost,
    });
    expect((await api.result(id)).json()).not.toHaveProperty("cost");
    expect(state.stats().billed_seconds).toBe(30);
  });

  it("is instant at speed 0 (the default)", async () => {
    const { api } = makeSimulator();
    const id = await submitOk(api, T2A, { tags: "ambient" });
    expect((await api.status(id)).json().status).toBe("completed");
  });

  it("queues beyond max_concurrent, reports queue_position and finishes each render at its own time", async () => {
    const { api, clock, state } = makeSimulator({ config: { max_concurrent: 1, speed: 1 } });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await submitOk(api, T2A, { tags: "jazz", duration: 10 }));
    const [a, b, c] = ids as [string, string, string];
    expect((await api.status(a)).json().status).toBe("in_progress");
    expect((await api.status(b)).json()).toEqual({ request_id: b, status: "in_queue", queue_position: 0 });
    expect((await api.status(c)).json()).toEqual({ request_id: c, status: "in_queue", queue_position: 1 });

    // Nobody looks for 35 s: the renders still ran back to back.
    clock.advance(35_000);
    const finished = await Promise.all(ids.map(async (id) => (await api.result(id)).json().finished_at));
    expect(finished).toEqual([T0 + 10_000, T0 + 20_000, T0 + 30_000].map((ms) => new Date(ms).toISOString()));
    expect(state.stats().peak_concurrent).toBe(1);
  });

  it("starts waiting requests as soon as max_concurrent is raised", async () => {
    const { api, state } = makeSimulator({ config: { max_concurrent: 1, speed: 1 } });
    await submitOk(api, T2A, { tags: "jazz", duration: 10 });
    const second = await submitOk(api, T2A, { tags: "jazz", duration: 10 });
    expect((await api.status(second)).json().status).toBe("in_queue");
    await api.control("PUT", "config", { max_concurrent: 5 });
    expect((await api.status(second)).json().status).toBe("in_progress");
    expect(state.stats().peak_concurrent).toBe(2);
  });

  it("remembers the random seed drawn for seed -1 and keeps an explicit seed", async () => {
    const { api } = makeSimulator();
    const random = await submitOk(api, T2A, { tags: "rock" });
    const fixed = await submitOk(api, T2A, { tags: "rock", seed: 1234 });
    const seedOf = async (id: string) => (await api.control("GET", `requests/${id}`)).json().seed as number;
    const drawn = await seedOf(random);
    expect(drawn).toBeGreaterThanOrEqual(0);
    expect(await seedOf(random)).toBe(drawn);
    expect(await seedOf(fixed)).toBe(1234);
  });

  it("a request that fails (rate_failed) ends failed with an error and is not billed", async () => {
    const { api, state } = makeSimulator({ config: { fail: { rate_failed: 1 } } });
    const id = await submitOk(api, T2A, { tags: "rock" });
    const result = (await api.result(id, true)).json();
    expect(result).toMatchObject({ status: "failed", output: null, error: expect.stringMatching(/failure/), cost: 0 });
    expect(state.stats()).toMatchObject({ billed_seconds: 0, billed_usd: 0 });
  });

  it("answers 404001 for unknown ids and for results past result_ttl_seconds", async () => {
    const { api, clock } = makeSimulator({ config: { result_ttl_seconds: 60 } });
    const missing = await api.status("00000000-0000-0000-0000-000000000000");
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error_code).toBe(404001);
    const id = await submitOk(api, T2A, { tags: "rock" });
    expect((await api.result(id)).statusCode).toBe(200);
    clock.advance(61_000);
    const expired = await api.result(id);
    expect(expired.statusCode).toBe(404);
    expect(expired.json()).toMatchObject({ error_code: 404001, error_message: expect.stringMatching(/expired/) });
  });

  it("serves the model catalogue entry with its price", async () => {
    const { api } = makeSimulator();
    expect((await api.call("GET", `/v1/models/${T2A_15}`)).json()).toEqual({ model_id: T2A_15, base_price_usd: 0.0003, price_unit: "second" });
  });
});

describe("cancel", () => {
  it("cancels a queued request but not a running or finished one", async () => {
    const { api, clock, state } = makeSimulator({ config: { max_concurrent: 1, speed: 1 } });
    const running = await submitOk(api, T2A, { tags: "pop", duration: 20 });
    const queued = await submitOk(api, T2A, { tags: "pop", duration: 20 });
    const behind = await submitOk(api, T2A, { tags: "pop", duration: 20 });

    expect((await api.cancel(queued)).json()).toEqual({ request_id: queued, status: "cancelled", outcome: "cancelled" });
    expect((await api.status(behind)).json().queue_position).toBe(0);
    expect((await api.cancel(running)).json()).toEqual({ request_id: running, status: "in_progress", outcome: "not_cancellable" });

    clock.advance(60_000);
    expect((await api.status(queued)).json().status).toBe("cancelled");
    expect((await api.cancel(running)).json()).toMatchObject({ status: "completed", outcome: "not_cancellable" });
    expect((await api.result(queued, true)).json()).toMatchObject({ status: "cancelled", output: null, cost: 0 });
    expect(state.stats()).toMatchObject({ billed_seconds: 40, cancels: 3, requests_by_status: { completed: 2, cancelled: 1 } });
  });
});

describe("validation", () => {
  it("rejects an unknown model with 400001", async () => {
    const { api } = makeSimulator();
    const res = await api.submit("acestep-ai/ace-step/nope", { tags: "x" });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error_code: 400001, error_message: expect.stringContaining("acestep-ai/ace-step/nope") });
  });

  it("names each bad field", async () => {
    const { api, state } = makeSimulator();
    const missingTags = await api.submit(T2A, { duration: 30 });
    expect(missingTags.statusCode).toBe(400);
    expect(missingTags.json()).toMatchObject({ error_code: 400000, error_message: expect.stringContaining("tags") });
    expect(missingTags.json().details).toEqual([{ path: "tags", message: expect.any(String) }]);

    const tooLong = await api.submit(T2A, { tags: "x", duration: 241 });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error_message).toMatch(/duration.*240/);

    const unknownField = await api.submit(T2A_15, { tags: "x", prompt: "hi" });
    expect(unknownField.json().details).toEqual([{ path: "prompt", message: 'unknown field "prompt"' }]);

    const notJson = await api.call("POST", `/v1/models/${T2A}`, undefined);
    expect(notJson.statusCode).toBe(400);
    expect(state.stats()).toMatchObject({ submits: 0, rejected_submits: 4 });
  });

  it("accepts https sources and loopback http, but not job ids or other http hosts", async () => {
    const { api } = makeSimulator();
    // Loopback only: accepted sources are fetched, and tests never leave this machine.
    const ok = await api.submit(INPAINT, { tags: "x", audio: "https://127.0.0.1:9/a.wav" });
    expect(ok.statusCode).toBe(200);
    for (const audio of ["http://127.0.0.1:9/a.wav", "http://localhost:9/a.wav", "http://[::1]:9/a.wav"]) {
      expect((await api.submit(OUTPAINT, { tags: "x", audio })).statusCode, audio).toBe(200);
    }
    for (const audio of ["job_01jd8x0000000000000000000a", "http://example.com/a.wav", "ftp://127.0.0.1/a.wav", "not a url"]) {
      const res = await api.submit(INPAINT, { tags: "x", audio });
      expect(res.statusCode, audio).toBe(400);
      expect(res.json().details[0].path).toBe("audio");
    }
  });

  it("applies the contracts' cross-field rules", async () => {
    const { api } = makeSimulator();
    const inverted = await api.submit(INPAINT, { tags: "x", audio: "https://127.0.0.1:9/a.wav", start_time: 20, end_time: 10 });
    expect(inverted.json().details).toEqual([{ path: "end_time", message: expect.stringMatching(/after start_time/) }]);
    const nothing = await api.submit(OUTPAINT, { tags: "x", audio: "https://127.0.0.1:9/a.wav", extend_after_duration: 0 });
    expect(nothing.statusCode).toBe(400);
  });
});

describe("auth", () => {
  it("answers 401 / 400004 without a token or with the wrong one", async () => {
    const { app } = makeSimulator();
    for (const token of [null, "wrong"]) {
      const res = await apiClient(app, token).submit(T2A, { tags: "x" });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error_code: 400004, error_message: "token missing, expired or revoked" });
    }
    const empty = await app.inject({ method: "GET", url: "/v1/requests/x/status", headers: { authorization: "Bearer " } });
    expect(empty.statusCode).toBe(401);
  });

  it("reject_tokens simulates a revoked token until flipped back", async () => {
    const { api, state } = makeSimulator();
    await api.control("PUT", "config", { reject_tokens: true });
    expect((await api.submit(T2A, { tags: "x" })).statusCode).toBe(401);
    await api.control("PUT", "config", { reject_tokens: false });
    expect((await api.submit(T2A, { tags: "x" })).statusCode).toBe(200);
    expect(state.stats().served_401).toBe(1);
  });

  it("require_token false accepts calls without a token", async () => {
    const { app } = makeSimulator({ config: { require_token: false } });
    expect((await apiClient(app, null).submit(T2A, { tags: "x" })).statusCode).toBe(200);
  });

  it("without a configured token accepts any token, but only its owner may read a request (403001)", async () => {
    const { app } = buildSimulator({});
    const alice = apiClient(app, "alice");
    const id = await submitOk(alice, T2A, { tags: "x" });
    expect((await alice.status(id)).statusCode).toBe(200);
    const stolen = await apiClient(app, "mallory").result(id);
    expect(stolen.statusCode).toBe(403);
    expect(stolen.json().error_code).toBe(403001);
  });

  it("never needs the token for control routes", async () => {
    const { app } = makeSimulator();
    expect((await apiClient(app, null).control("GET", "stats")).statusCode).toBe(200);
    expect(TOKEN).not.toBe("");
  });
});
