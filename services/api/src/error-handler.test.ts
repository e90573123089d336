import { newId } from "@acebatch/contracts";
import { afterAll, describe, expect, inject, it } from "vitest";
import { BOARD_PATH } from "./admin-board.ts";
import { makeTestApp, TEST_ADMIN_KEY } from "./test-app.ts";

const T2A = "acestep-ai/ace-step/text-to-audio";
const t = await makeTestApp({ label: "error-format", redisUrl: inject("redisUrl"), config: { bodyLimitBytes: 4_096 } });
afterAll(async () => {
  await t.close();
});

/** The spec's error body, with `details` present and empty (no field is to blame). */
const noDetails = (code: string) => ({ error: { code, message: expect.any(String), details: [] } });

describe("error bodies without a bad field carry an empty details array", () => {
  it("from the auth hook, the router, routes, the body parser and the framework", async () => {
    const reader = await t.createKey(["jobs:read"]);
    const queued = (await t.call("POST", "/v1/jobs", TEST_ADMIN_KEY, { model: T2A, input: { tags: "x" } })).json();
    const cases: [string, Awaited<ReturnType<typeof t.call>>, number, string][] = [
      ["no key", await t.call("GET", "/v1/jobs", null), 401, "unauthorized"],
      ["a wrong key", await t.call("GET", "/v1/jobs", "nope"), 401, "unauthorized"],
      ["a key without the scope", await t.call("POST", "/v1/jobs", reader.key, { model: T2A, input: { tags: "x" } }), 403, "forbidden"],
      ["an unknown route", await t.call("GET", "/v1/nothing-here"), 404, "route_not_found"],
      ["an unknown job", await t.call("GET", `/v1/jobs/${newId("job")}`), 404, "not_found"],
      ["audio of a queued job", await t.call("GET", `/v1/jobs/${queued.id}/audio`), 409, "audio_not_ready"],
      ["a body over the limit", await t.call("POST", "/v1/jobs", TEST_ADMIN_KEY, { model: T2A, input: { tags: "x".repeat(5_000) } }), 413, "payload_too_large"],
      ["a body that is not JSON", await t.call("POST", "/v1/jobs", TEST_ADMIN_KEY, "{nope", { "content-type": "application/json" }), 400, "invalid_json"],
      ["an unsupported media type", await t.call("POST", "/v1/jobs", TEST_ADMIN_KEY, "<x/>", { "content-type": "application/xml" }), 415, "unsupported_media_type"],
      ["broken percent-encoding", await t.call("GET", "/v1/jobs/%E0%A4%A"), 400, "bad_url"],
      ["a wrong key on a browser-login page", await t.call("GET", `${BOARD_PATH}?key=nope`, null), 401, "unauthorized"],
    ];
    for (const [label, res, status, code] of cases) {
      expect(res.statusCode, label).toBe(status);
      expect(res.json(), label).toEqual(noDetails(code));
    }
  });

  it("from the rate limiter, on API routes and on the browser-login pages (Bull Board) alike", async () => {
    const limited = await t.createKey(["jobs:read", "admin"], { rate_limit_per_minute: 1 });
    expect((await t.call("GET", "/v1/jobs", limited.key)).statusCode).toBe(200);
    for (const path of ["/v1/jobs", `${BOARD_PATH}/api/queues`]) {
      const res = await t.call("GET", path, limited.key);
      expect(res.statusCode, path).toBe(429);
      expect(res.headers["retry-after"], path).toBeDefined();
      expect(res.json(), path).toEqual(noDetails("rate_limited"));
    }
  });

  it("when Redis is unavailable (503)", async () => {
    const down = await makeTestApp({ label: "error-format-down", redisUrl: inject("redisUrl") });
    try {
      down.redis.disconnect();
      const res = await down.call("GET", "/v1/jobs");
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual(noDetails("redis_unavailable"));
    } finally {
      await down.close();
    }
  });
});
