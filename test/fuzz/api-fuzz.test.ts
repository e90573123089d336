import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { auth, deep, headerValue, json, model, nasty, RUNS, startFuzzApp, type FuzzApp } from "./fuzz-support.ts";

// POST /v1/jobs, the read routes' queries and ids, authorization headers and the budget: never a
// 5xx, never a crash, every rejection a 4xx in the spec's error format (see fuzz-support.ts).
let fuzz: FuzzApp;
let app: FuzzApp["app"];
let expectClientError: FuzzApp["expectClientError"];

beforeAll(async () => {
  fuzz = await startFuzzApp(inject("redisUrl"), "fuzz");
  ({ app, expectClientError } = fuzz);
});
afterAll(async () => {
  console.log(`[fuzz] api: ${fuzz?.cases()} cases tried`);
  await fuzz?.close();
});

describe("fuzzed API input", () => {
  it("POST /v1/jobs with arbitrary JSON bodies", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(json, fc.record({ model, input: json }), fc.record({ model, input: fc.record({ tags: nasty, duration: nasty, seed: nasty, audio: nasty }) })), async (body) => {
        const res = await app.inject({ method: "POST", url: "/v1/jobs", payload: JSON.stringify(body), headers: { ...auth, "content-type": "application/json" } });
        expectClientError(res);
      }),
      { numRuns: RUNS },
    );
  });

  it("POST /v1/jobs with raw bytes, deep nesting and odd content types", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.uint8Array({ maxLength: 2_000 }).map((b) => Buffer.from(b)), deep.map((s) => Buffer.from(s))),
        fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16", "image/png"),
        async (payload, contentType) => {
          const res = await app.inject({ method: "POST", url: "/v1/jobs", payload, headers: { ...auth, "content-type": contentType } });
          expectClientError(res);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("query strings, path ids and headers on every read route", async () => {
    const paths = fc.constantFrom("/v1/jobs", "/v1/jobs/", "/v1/budget", "/v1/spend", "/v1/batches/", "/v1/schedules/");
    await fc.assert(
      fc.asyncProperty(paths, fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), headerValue(), async (path, id, query, header) => {
        const url = `${path}${encodeURIComponent(id)}?${query.replace(/#/g, "")}`;
        const res = await app.inject({ method: "GET", url, headers: { ...auth, "idempotency-key": header } });
        expectClientError(res);
      }),
      { numRuns: RUNS },
    );
  });

  it("authorization headers", async () => {
    await fc.assert(
      fc.asyncProperty(headerValue(500), async (value) => {
        const res = await app.inject({ method: "GET", url: "/v1/jobs", headers: { authorization: value } });
        expectClientError(res);
        expect([200, 401]).toContain(res.statusCode);
      }),
      { numRuns: RUNS },
    );
  });

  it("PUT /v1/budget", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(json, fc.record({ limit_usd: nasty, period: nasty, timezone: nasty })), async (body) => {
        const res = await app.inject({ method: "PUT", url: "/v1/budget", payload: JSON.stringify(body), headers: { ...auth, "content-type": "application/json" } });
        expectClientError(res);
      }),
      { numRuns: RUNS },
    );
  });
});
