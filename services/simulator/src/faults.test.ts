import { describe, expect, it } from "vitest";

import { startSimulator } from "./start.ts";
import { makeSimulator, submitOk, TOKEN } from "./test-support.ts";

const T2A = "acestep-ai/ace-step/text-to-audio";

describe("rate limit", () => {
  it("answers 429 with Retry-After beyond rate_limit_rps, and admits again a second later", async () => {
    const { api, clock, state } = makeSimulator({ config: { rate_limit_rps: 2, retry_after_seconds: 1.5 } });
    const id = await submitOk(api, T2A, { tags: "x" });
    expect((await api.status(id)).statusCode).toBe(200);
    const limited = await api.status(id);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toBe("2");
    expect(limited.json()).toEqual({ error_code: 429000, error_message: "rate limited" });

    clock.advance(1_000);
    expect((await api.status(id)).statusCode).toBe(200);
    expect(state.stats()).toMatchObject({ served_429: 1, peak_rps: 3, status_calls: 2 });
  });

  it("sends no Retry-After when retry_after_seconds is null", async () => {
    const { api } = makeSimulator({ config: { rate_limit_rps: 1 } });
    await api.status("x");
    const limited = await api.status("x");
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toBeUndefined();
  });

  it("logs every call with its time and status for Retry-After checks", async () => {
    const { api, clock } = makeSimulator({ config: { rate_limit_rps: 1, retry_after_seconds: 1 } });
    await api.status("a");
    clock.advance(10);
    await api.status("b");
    clock.advance(2_000);
    await api.status("c");
    const calls = (await api.control("GET", `calls?since=${clock.now() - 2_000}`)).json();
    expect(calls).toEqual([
      { at_ms: clock.now() - 2_000, method: "GET", path: "/v1/requests/b/status", status: 429 },
      { at_ms: clock.now(), method: "GET", path: "/v1/requests/c/status", status: 404 },
    ]);
  });
});

describe("injected faults", () => {
  it("rate_429 and rate_5xx answer in the provider's error shape without creating requests", async () => {
    const { api, state } = makeSimulator({ config: { fail: { rate_429: 1 }, retry_after_seconds: 3 } });
    const limited = await api.submit(T2A, { tags: "x" });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toBe("3");

    state.updateConfig({ fail: { rate_429: 0, rate_5xx: 1 } });
    const statuses = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const res = await api.submit(T2A, { tags: "x" });
      expect(res.json()).toEqual({ error_code: 500000, error_message: "simulated upstream error" });
      statuses.add(res.statusCode);
    }
    expect([...statuses].sort()).toEqual([500, 502, 503]);
    expect(state.stats()).toMatchObject({ submits: 0, served_429: 1, served_5xx: 30 });
  });

  it("fail_seed makes the injected faults repeatable", async () => {
    const sequence = async () => {
      const { api } = makeSimulator({ config: { fail_seed: 42, fail: { rate_429: 0.3, rate_5xx: 0.3 } } });
      const codes = [];
      for (let i = 0; i < 40; i++) codes.push((await api.status("x")).statusCode);
      return codes;
    };
    const first = await sequence();
    expect(await sequence()).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(2);
  });

  it("rate_timeout holds the answer, then 504s; the held submit still created its request", async () => {
    const { api, state } = makeSimulator({ config: { fail: { rate_timeout: 1 }, timeout_hold_ms: 150 } });
    const started = Date.now();
    const res = await api.submit(T2A, { tags: "x" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(res.statusCode).toBe(504);
    expect(res.json().error_code).toBe(504000);
    expect(state.stats()).toMatchObject({ served_timeouts: 1, submits: 1, requests_by_status: { completed: 1 } });
  });

  it("a held answer ends when the client hangs up, and close() does not wait for holds", async () => {
    const sim = await startSimulator({ token: TOKEN, config: { fail: { rate_timeout: 1 }, timeout_hold_ms: 60_000 } });
    try {
      const aborted = await fetch(`${sim.url}/requests/x/status`, {
        headers: { authorization: `Bearer ${TOKEN}` },
        signal: AbortSignal.timeout(100),
      }).catch((err: Error) => err);
      expect(aborted).toBeInstanceOf(Error);
      await expect.poll(() => sim.state.calls.log.since(0).map((c) => c.status)).toEqual([499]);
      // A second call still held when the server closes.
      void fetch(`${sim.url}/requests/y/status`, { headers: { authorization: `Bearer ${TOKEN}` } }).catch(() => {});
      await expect.poll(() => sim.state.stats().served_timeouts).toBe(2);
    } finally {
      const started = Date.now();
      await sim.close();
      expect(Date.now() - started).toBeLessThan(5_000);
    }
  });

  it("rate_failed ends requests failed at the end of their render", async () => {
    const { api, clock } = makeSimulator({ config: { fail: { rate_failed: 1 }, speed: 1 } });
    const id = await submitOk(api, T2A, { tags: "x", duration: 10 });
    expect((await api.status(id)).json().status).toBe("in_progress");
    clock.advance(10_000);
    expect((await api.result(id)).json()).toMatchObject({ status: "failed", error: "simulated generation failure" });
  });
});
