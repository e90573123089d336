import { afterEach, describe, expect, it } from "vitest";
import { exitCodeForStatus } from "./exit-codes.ts";
import { parseRetryAfter } from "./http-client.ts";
import { closedPort, run, startScriptedServer, TEST_KEY, type Reply, type ScriptedServer } from "./test-helpers.ts";

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(reply: Reply) {
  server = await startScriptedServer(() => reply);
  return server;
}

const apiError = (code: string, message: string, details?: { path: string; message: string }[]) => ({ error: { code, message, ...(details ? { details } : {}) } });

describe("exit codes of HTTP answers (the runcomfy CLI's classes)", () => {
  it("maps statuses like runcomfy: 4xx → 65, 401/403 → 77, 408/429 → 75, 5xx → 69", () => {
    expect([400, 404, 409, 410, 413, 415, 422].map(exitCodeForStatus)).toEqual([65, 65, 65, 65, 65, 65, 65]);
    expect([401, 403].map(exitCodeForStatus)).toEqual([77, 77]);
    expect([408, 429].map(exitCodeForStatus)).toEqual([75, 75]);
    expect([500, 502, 503, 504].map(exitCodeForStatus)).toEqual([69, 69, 69, 69]);
    expect([302, 200].map(exitCodeForStatus)).toEqual([1, 1]);
  });

  it("400 → 65 and shows every bad field the API named", async () => {
    const s = await serve({
      status: 400,
      json: apiError("invalid_input", "invalid input", [
        { path: "input.duration", message: "duration must be at most 240 seconds" },
        { path: "input.tags", message: "tags is required" },
      ]),
    });
    const r = await run(["jobs", "get", "job_x"], { url: s.url });
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("HTTP 400: invalid input");
    expect(r.stderr).toContain("input.duration: duration must be at most 240 seconds");
    expect(r.stderr).toContain("input.tags: tags is required");
  });

  it("prints each bad row of a rejected batch once, though the API names it in details and in errors", async () => {
    const s = await serve({
      status: 400,
      json: {
        error: {
          code: "invalid_rows",
          message: "2 row(s) are invalid",
          details: [
            { path: "row 2 / tags", message: "tags must not be empty" },
            { path: "row 5 / duration", message: "duration must be at most 240 seconds" },
          ],
        },
        errors: [
          { row: 2, column: "tags", message: "tags must not be empty" },
          { row: 5, column: "duration", message: "duration must be at most 240 seconds" },
          // Only in errors (an API that names rows nowhere else): still shown.
          { row: 9, column: null, message: "the row has 7 cells; the header has 3" },
        ],
      },
    });
    const r = await run(["jobs", "get", "job_x"], { url: s.url });
    expect(r.code).toBe(65);
    expect(r.stderr.split("row 2 / tags: tags must not be empty")).toHaveLength(2);
    expect(r.stderr.split("row 5 / duration: duration must be at most 240 seconds")).toHaveLength(2);
    expect(r.stderr.split("row 9: the row has 7 cells; the header has 3")).toHaveLength(2);
  });

  it("under --json gives an error of its own in the API's shape, details included", async () => {
    const r = await run(["jobs", "list", "--limit", "x", "--json"], { url: "http://127.0.0.1:9" });
    expect(r.code).toBe(64);
    expect(JSON.parse(r.stderr)).toEqual({ error: { code: "usage", message: expect.stringContaining("--limit"), details: [] } });
  });

  it.each([404, 409, 413, 422])("%i → 65", async (status) => {
    const s = await serve({ status, json: apiError("x", "rejected") });
    expect((await run(["jobs", "get", "job_x"], { url: s.url })).code).toBe(65);
  });

  it("under --json writes the API's error body verbatim to stderr and nothing to stdout", async () => {
    const body = apiError("conflict", "same key, different body");
    const s = await serve({ status: 409, json: body });
    const r = await run(["jobs", "get", "job_x", "--json"], { url: s.url });
    expect(r.code).toBe(65);
    expect(r.stdout).toBe("");
    expect(JSON.parse(r.stderr)).toEqual(body);
  });

  it.each([401, 403])("%i → 77", async (status) => {
    const s = await serve({ status, json: apiError("unauthorized", "no") });
    const r = await run(["jobs", "get", "job_x"], { url: s.url });
    expect(r.code).toBe(77);
    expect(r.stderr).toContain(`HTTP ${status}`);
  });

  it("429 → 75 and the message honours Retry-After", async () => {
    const s = await serve({ status: 429, json: apiError("rate_limited", "slow down"), headers: { "retry-after": "7" } });
    const r = await run(["jobs", "get", "job_x"], { url: s.url });
    expect(r.code).toBe(75);
    expect(r.stderr).toContain("retry after 7 s");
  });

  it("408 → 75", async () => {
    const s = await serve({ status: 408, body: "" });
    expect((await run(["jobs", "list"], { url: s.url })).code).toBe(75);
  });

  it.each([500, 503])("%i → 69", async (status) => {
    const s = await serve({ status, json: apiError("redis_unavailable", "the job store (Redis) is unavailable") });
    const r = await run(["jobs", "list"], { url: s.url });
    expect(r.code).toBe(69);
    expect(r.stderr).toContain("Redis");
  });

  it("an API that is not running (connection refused) → 69", async () => {
    const r = await run(["jobs", "list"], { url: `http://127.0.0.1:${await closedPort()}` });
    expect(r.code).toBe(69);
    expect(r.stderr).toContain("connection refused");
  });

  it("an API that never answers → 75 after --timeout", async () => {
    const s = await serve("hang");
    const started = Date.now();
    const r = await run(["jobs", "list", "--timeout", "0.3"], { url: s.url });
    expect(r.code).toBe(75);
    expect(r.stderr).toContain("timeout");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("no key → 77 without sending anything", async () => {
    const s = await serve({ status: 200, json: { data: [], next_cursor: null } });
    const r = await run(["jobs", "list"], { url: s.url, env: { ACEBATCH_API_KEY: undefined } });
    expect(r.code).toBe(77);
    expect(r.stderr).toContain("ACEBATCH_API_KEY");
    expect(s.requests).toHaveLength(0);
  });

  it("a redirect is not followed (the key must not travel) → 1", async () => {
    const s = await serve({ status: 302, headers: { location: "http://127.0.0.1:9/elsewhere" } });
    const r = await run(["jobs", "list"], { url: s.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("redirect");
    expect(s.requests).toHaveLength(1);
  });

  it("a 2xx that is not JSON → 1", async () => {
    const s = await serve({ status: 200, body: "<html>hello</html>", headers: { "content-type": "text/html" } });
    expect((await run(["jobs", "list"], { url: s.url })).code).toBe(1);
  });
});

describe("the API key", () => {
  it("is sent as a Bearer token on every call", async () => {
    const s = await serve({ status: 200, json: { data: [], next_cursor: null } });
    await run(["jobs", "list"], { url: s.url });
    expect(s.requests[0]!.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
  });

  it("is never printed, even when the API echoes it and under --verbose", async () => {
    const s = await serve({ status: 401, json: apiError("unauthorized", `key ${TEST_KEY} is not valid`) });
    for (const extra of [[], ["--verbose"], ["--json"]]) {
      const r = await run(["jobs", "get", "job_x", ...extra], { url: s.url });
      expect(r.code).toBe(77);
      expect(r.stdout + r.stderr).not.toContain(TEST_KEY);
    }
    const flagged = await run(["jobs", "get", "job_x", "-v", "--api-key", "flag-secret-123456"], { url: s.url });
    expect(flagged.stderr).toContain("[verbose] > GET");
    expect(flagged.stdout + flagged.stderr).not.toContain("flag-secret-123456");
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP dates", () => {
    expect(parseRetryAfter("5")).toBe(5);
    expect(parseRetryAfter("1.2")).toBe(2);
    expect(parseRetryAfter(new Date(Date.parse("2026-01-01T00:00:30Z")).toUTCString(), Date.parse("2026-01-01T00:00:00Z"))).toBe(30);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});
