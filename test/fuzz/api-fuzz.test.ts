import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "@acebatch/api";
import { createLogger } from "@acebatch/config";
import { closeRedis, createQueues, createRedis, redisReady } from "@acebatch/queue";
import { createLocalStorage, createUrlSigner } from "@acebatch/storage";
import { uniquePrefix } from "@acebatch/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

// Adversarial input for every endpoint: wrong types, huge strings, deep nesting, NUL bytes, invalid
// UTF-8, prototype-pollution keys. The rule: never a 5xx, never a crash, every rejection a 4xx in
// the spec's error format.
const KEY = "fuzz-admin-key-0123456789abcdef";
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
let app: Awaited<ReturnType<typeof buildApp>>;
let cleanup: () => Promise<void>;
let cases = 0;

beforeAll(async () => {
  const prefix = uniquePrefix("fuzz");
  const redis = createRedis(inject("redisUrl"), "producer");
  const queueRedis = createRedis(inject("redisUrl"), "worker");
  const queues = createQueues(queueRedis, { prefix, maxAttempts: 1 });
  await redisReady(redis);
  const dir = await mkdtemp(join(tmpdir(), "acebatch-fuzz-"));
  app = await buildApp({
    redis,
    queues,
    storage: createLocalStorage({ root: dir }),
    signer: createUrlSigner("f".repeat(32)),
    logger: createLogger({ name: "fuzz", level: "silent" }),
    config: { prefix, adminKey: KEY, publicBaseUrl: "http://127.0.0.1:8080", bodyLimitBytes: 1_048_576 },
  });
  await app.ready();
  cleanup = async () => {
    await app.close();
    await queues.generate.obliterate({ force: true });
    await queues.close();
    await closeRedis(redis);
    await closeRedis(queueRedis);
    await rm(dir, { recursive: true, force: true });
  };
});
afterAll(async () => {
  console.log(`[fuzz] ${cases} cases tried`);
  await cleanup?.();
});

const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.constantFrom("\u0000", "\uD800", "\uFFFF", "__proto__", "constructor", "prototype", "x".repeat(100_000), "-1", "1e309", "NaN", "💥".repeat(1000)),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, nasty, fc.array(tie("value"), { maxLength: 5 }), tie("object")),
  object: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "tags", "duration", "seed", "audio", "model", "input")), tie("value"), {
    maxKeys: 6,
  }),
})).value;
const deep = fc.integer({ min: 100, max: 5_000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth));
const model = fc.constantFrom("acestep-ai/ace-step/text-to-audio", "acestep-ai/ace-step-1.5/text-to-audio", "acestep-ai/ace-step/audio-inpaint", "acestep-ai/ace-step/audio-outpaint");

function expectClientError(res: { statusCode: number; body: string }) {
  cases++;
  expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
  if (res.statusCode >= 400) {
    const body = JSON.parse(res.body);
    expect(typeof body.error.code).toBe("string");
    expect(typeof body.error.message).toBe("string");
  }
}

const auth = { authorization: `Bearer ${KEY}` };

describe("fuzzed API input", () => {
  it("POST /v1/jobs with arbitrary JSON bodies", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(json, fc.record({ model, input: json }), fc.record({ model, input: fc.record({ tags: nasty, duration: nasty, seed: nasty, audio: nasty }) })), async (body) => {
        const res = await app.inject({ method: "POST", url: "/v1/jobs", payload: JSON.stringify(body), headers: { ...auth, "content-type": "application/json" } });
        expectClientError(res);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
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
      fc.asyncProperty(paths, fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), fc.string({ maxLength: 200 }), async (path, id, query, header) => {
        const url = `${path}${encodeURIComponent(id)}?${query.replace(/#/g, "")}`;
        const res = await app.inject({ method: "GET", url, headers: { ...auth, "idempotency-key": header.replace(/[^\x20-\x7e]/g, "") } });
        expectClientError(res);
      }),
      { numRuns: RUNS },
    );
  });

  it("authorization headers", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 500 }), async (value) => {
        const res = await app.inject({ method: "GET", url: "/v1/jobs", headers: { authorization: value.replace(/[^\x20-\x7e]/g, "") } });
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
