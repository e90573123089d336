import { describe, expect, it } from "vitest";

import { DEFAULT_SIM_CONFIG } from "../sim-config.ts";
import { makeSimulator, submitOk } from "../test-support.ts";

const T2A = "acestep-ai/ace-step/text-to-audio";
const T2A_15 = "acestep-ai/ace-step-1.5/text-to-audio";

describe("/__sim/config", () => {
  it("starts at the defaults and merges partial updates, fail key by key", async () => {
    const { api } = makeSimulator();
    expect((await api.control("GET", "config")).json()).toEqual(DEFAULT_SIM_CONFIG);
    await api.control("PUT", "config", { fail: { rate_429: 0.1 } });
    const updated = await api.control("PUT", "config", { speed: 5, fail: { rate_5xx: 0.2 } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ speed: 5, max_concurrent: 1000, fail: { rate_429: 0.1, rate_5xx: 0.2, rate_timeout: 0, rate_failed: 0 } });
  });

  it("rejects unknown keys and bad values naming them, and changes nothing", async () => {
    const { api } = makeSimulator();
    const res = await api.control("PUT", "config", { speed: -1, turbo: true, fail: { rate_oops: 1 } });
    expect(res.statusCode).toBe(400);
    expect(res.json().details.map((d: { path: string }) => d.path).sort()).toEqual(["fail.rate_oops", "speed", "turbo"]);
    const overfull = await api.control("PUT", "config", { fail: { rate_429: 0.6, rate_5xx: 0.6 } });
    expect(overfull.statusCode).toBe(400);
    expect((await api.control("GET", "config")).json()).toEqual(DEFAULT_SIM_CONFIG);
  });
});

describe("/__sim/stats", () => {
  it("counts calls and bills completed requests only, at the model's price per output second", async () => {
    const { api, clock } = makeSimulator({ config: { max_concurrent: 2, speed: 1 } });
    const base = await submitOk(api, T2A, { tags: "x", duration: 60 });
    const v15 = await submitOk(api, T2A_15, { tags: "x", duration: 30 });
    const cancelled = await submitOk(api, T2A, { tags: "x", duration: 200 });
    await api.cancel(cancelled);
    await api.status(base);
    clock.advance(60_000);
    await api.result(v15);
    const stats = (await api.control("GET", "stats")).json();
    expect(stats).toEqual({
      submits: 3,
      rejected_submits: 0,
      status_calls: 1,
      result_calls: 1,
      cancels: 1,
      downloads: 0,
      served_401: 0,
      served_429: 0,
      served_5xx: 0,
      served_timeouts: 0,
      peak_concurrent: 2,
      peak_rps: 5, // three submits, a cancel and a status inside one second
      billed_seconds: 90,
      billed_usd: 0.021, // 60 s × $0.0002 + 30 s × $0.0003
      requests_by_status: { in_queue: 0, in_progress: 0, completed: 2, failed: 0, cancelled: 1 },
    });
  });
});

describe("/__sim/reset", () => {
  it("forgets requests, counters, calls and config", async () => {
    const { api } = makeSimulator();
    const id = await submitOk(api, T2A, { tags: "x" });
    await api.control("PUT", "config", { speed: 3, rate_limit_rps: 100 });
    expect((await api.control("POST", "reset")).json()).toEqual({ reset: true });
    expect((await api.status(id)).statusCode).toBe(404);
    expect((await api.control("GET", "config")).json()).toEqual(DEFAULT_SIM_CONFIG);
    const stats = (await api.control("GET", "stats")).json();
    expect(stats).toMatchObject({ submits: 0, billed_seconds: 0, peak_concurrent: 0, status_calls: 1 });
    expect((await api.control("GET", "calls")).json()).toHaveLength(1); // the status call after the reset
  });

  it("returns to the config the simulator was built with", async () => {
    const { api } = makeSimulator({ config: { speed: 2 } });
    await api.control("PUT", "config", { speed: 9 });
    await api.control("POST", "reset");
    expect((await api.control("GET", "config")).json().speed).toBe(2);
  });
});
