import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newId } from "@acebatch/contracts";
import { createJobStore } from "@acebatch/queue";
import { audioKey } from "@acebatch/storage";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { auth, deep, headerValue, json, model, nasty, RUNS, startFuzzApp, type FuzzApp } from "./fuzz-support.ts";

// Every /v1 route the app registers, and the upload formats of POST /v1/batches (CSV, NDJSON, tag
// combinations): never a 5xx, never a crash, every rejection a 4xx in the spec's error format.
let fuzz: FuzzApp;
let app: FuzzApp["app"];
let expectClientError: FuzzApp["expectClientError"];
/** A completed job whose audio is in storage, for Range headers on a real file. */
let audioJobId: string;
let scratch: string;

beforeAll(async () => {
  fuzz = await startFuzzApp(inject("redisUrl"), "fuzz-routes");
  ({ app, expectClientError } = fuzz);
  scratch = await mkdtemp(join(tmpdir(), "acebatch-fuzz-audio-"));
  audioJobId = await completedJobWithAudio();
});
afterAll(async () => {
  console.log(`[fuzz] routes: ${fuzz?.cases()} cases tried`);
  await fuzz?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function completedJobWithAudio(): Promise<string> {
  const store = createJobStore({ redis: fuzz.redis, prefix: fuzz.prefix });
  const id = newId("job");
  const bytes = Buffer.alloc(4_096, 7);
  const source = join(scratch, "audio.wav");
  await writeFile(source, bytes);
  const key = audioKey(id, "wav");
  await fuzz.storage.putFile(key, source, { contentType: "audio/wav" });
  await store.create({ id, model: "acestep-ai/ace-step/text-to-audio", input: { tags: "fuzz", duration: 5, seed: 1 }, created_at: new Date().toISOString() });
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const output = { storage_key: key, format: "wav", content_type: "audio/wav", duration_seconds: 5, bytes: bytes.length, sha256, seed: 1 };
  const moved = await store.transition(id, { from: ["queued"], to: "completed", set: { output, finished_at: new Date().toISOString() } });
  expect(moved.ok).toBe(true);
  return id;
}

/** The routes to fuzz: every scoped route, except the SSE streams (they never end by design; their ids are fuzzed as 404s below). */
function fuzzableRoutes() {
  const catalog = (app as unknown as { routeCatalog: { method: string; url: string; scope?: string }[] }).routeCatalog;
  return catalog.filter((r) => r.scope && r.url.startsWith("/v1/") && !r.url.endsWith("/events"));
}

const contentTypes = fc.constantFrom(
  "application/json",
  "text/csv",
  "text/tab-separated-values",
  "application/x-ndjson",
  "multipart/form-data; boundary=x",
  "multipart/form-data",
  "text/plain",
  "application/json; charset=utf-16",
  "image/png",
  "",
);
const bodies = fc.oneof(
  json.map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
  deep.map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 2_000 }).map((b) => Buffer.from(b)),
  fc.string({ unit: "binary", maxLength: 500 }).map((s) => Buffer.from(s)),
);
/** Path ids: random text, ids of the right shape that do not exist, and the real audio job. */
const ids = fc.oneof(
  fc.string({ maxLength: 300 }),
  nasty.map(String),
  fc.constantFrom("job_01m87jj30xvsdhw5d21r0akzm5", "bat_01m87jj30xvsdhw5d21r0akzm5", "sch_01m87jj30xvsdhw5d21r0akzm5", "key_00000000000000000000000000"),
  fc.constant("@audio"),
  // Sent as they are, not encoded: broken percent-encoding the router must refuse in our format.
  fc.constantFrom("raw:%", "raw:%E0%A4%A", "raw:%ZZ", "raw:%00", "raw:%C0%AF", "raw:..%2F..%2Fetc"),
);
/** A path segment for a fuzzed id (raw ids as they are; lone surrogates made well-formed first, as a client's encoder must). */
const segment = (id: string) => (id === "@audio" ? audioJobId : id.startsWith("raw:") ? id.slice(4) : encodeURIComponent(id.toWellFormed()));
const ranges = fc.oneof(
  headerValue(100),
  fc.tuple(fc.integer({ min: -10, max: 10_000 }), fc.integer({ min: -10, max: 10_000 })).map(([a, b]) => `bytes=${a}-${b}`),
  fc.constantFrom("bytes=-", "bytes=0-", "bytes=-0", "bytes=-99999", "bytes=5-2", "bytes=0-1,3-4", "bytes=4096-", "items=0-1", "bytes=99999999999999999999-"),
);

describe("fuzzed input on every route", () => {
  it("every /v1 route with fuzzed path ids, queries, bodies, content types and headers", async () => {
    const routes = fuzzableRoutes();
    expect(routes.length).toBeGreaterThan(30);
    const answered = { ok: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        ids,
        fc.string({ maxLength: 300 }),
        bodies,
        contentTypes,
        fc.record({ "idempotency-key": headerValue(300), range: ranges, "if-none-match": headerValue(60), "last-event-id": headerValue(60) }, { requiredKeys: [] }),
        async (route, id, query, body, contentType, headers) => {
          const path = route.url.replace(/:[a-z_]+/gi, () => segment(id));
          const hasBody = route.method === "POST" || route.method === "PUT" || route.method === "PATCH";
          const res = await app.inject({
            method: route.method as "GET",
            url: `${path}?${query.replace(/#/g, "")}`,
            headers: { ...auth, ...headers, ...(hasBody && contentType ? { "content-type": contentType } : {}) },
            ...(hasBody ? { payload: body } : {}),
          });
          expectClientError(res, route.method);
          answered[res.statusCode < 400 ? "ok" : "refused"]++;
        },
      ),
      { numRuns: RUNS * 4 },
    );
    // The generators reach both sides: some requests are served, most are refused.
    expect(answered.ok).toBeGreaterThan(0);
    expect(answered.refused).toBeGreaterThan(0);
  });

  it("the SSE streams answer unknown ids and bad queries with a 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/v1/jobs/", "/v1/batches/"), fc.string({ maxLength: 200 }), headerValue(100), async (path, id, lastEventId) => {
        const res = await app.inject({ method: "GET", url: `${path}${segment(`x${id}`)}/events`, headers: { ...auth, "last-event-id": lastEventId } });
        expectClientError(res);
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: RUNS },
    );
  });

  it("Range headers on a stored file: 200, 206 inside the file, or 416 in the error format", async () => {
    await fc.assert(
      fc.asyncProperty(ranges, async (range) => {
        const res = await app.inject({ method: "GET", url: `/v1/jobs/${audioJobId}/audio`, headers: { ...auth, range } });
        expectClientError(res);
        expect([200, 206, 416]).toContain(res.statusCode);
        if (res.statusCode === 416) expect(res.headers["content-range"]).toBe("bytes */4096");
        if (res.statusCode === 206) {
          const [, start, end, size] = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers["content-range"]))!.map(Number);
          expect(end! - start! + 1).toBe(res.rawPayload.length);
          expect(end).toBeLessThan(size!);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/** A CSV cell as spreadsheets and attackers write them: quotes, separators, line breaks, NULs, formulas. */
const cell = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom("", '"', '""', '"unterminated', 'a"b', ",", ";", "\t", "\r\n", "\n", "\r", "\u0000", "\uFEFF", "=cmd|' /C calc'!A0", "30", "-1", "1e309", "NaN", "__proto__", "x".repeat(5_000)),
  fc.integer().map(String),
);
const headerCell = fc.oneof(
  cell,
  fc.constantFrom("tags", "Tags", " DURATION ", "seed", "lyrics", "model", "variations", "audio", "metadata.take", "__proto__", "constructor", "tags"),
);
const csvText = fc
  .tuple(fc.array(headerCell, { minLength: 1, maxLength: 8 }), fc.array(fc.array(cell, { maxLength: 9 }), { maxLength: 20 }), fc.constantFrom(",", ";", "\t"), fc.constantFrom("\n", "\r\n", "\r"))
  .map(([header, rows, sep, eol]) => [header, ...rows].map((r) => r.join(sep)).join(eol));
const quotedCsv = fc
  .tuple(fc.array(fc.array(cell, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 10 }), fc.boolean())
  .map(([rows, bom]) => (bom ? "\uFEFF" : "") + ["tags,duration,seed"].concat(rows.map((r) => r.map((c) => `"${c.replace(/"/g, '""')}"`).join(","))).join("\r\n"));
const uploadQuery = fc.record(
  { model: fc.oneof(model, fc.string({ maxLength: 50 })), on_invalid: fc.constantFrom("reject", "skip", "maybe", ""), dry_run: fc.constantFrom("true", "false", "1", "yes", ""), name: fc.string({ maxLength: 300 }), max_cost_usd: fc.constantFrom("1", "0", "-1", "1e309", "abc", "0.000001") },
  { requiredKeys: [] },
);
const queryString = (q: Record<string, string>) => new URLSearchParams(q).toString();

describe("fuzzed batch uploads", () => {
  it("POST /v1/batches with adversarial CSV text and bytes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(csvText.map((s) => Buffer.from(s)), quotedCsv.map((s) => Buffer.from(s)), fc.uint8Array({ maxLength: 3_000 }).map((b) => Buffer.from(b)), fc.constant(Buffer.from([0x74, 0x61, 0x67, 0x73, 0x0a, 0xff, 0xfe, 0xc3, 0x28]))),
        uploadQuery,
        fc.constantFrom("text/csv", "text/tab-separated-values", "application/vnd.ms-excel", "text/csv; charset=latin1"),
        async (payload, query, contentType) => {
          const res = await app.inject({ method: "POST", url: `/v1/batches?${queryString(query)}`, payload, headers: { ...auth, "content-type": contentType } });
          expectClientError(res);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it("POST /v1/batches with NDJSON lines", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(json.map((v) => JSON.stringify(v) ?? ""), fc.record({ model, input: json }).map((v) => JSON.stringify(v)), fc.string({ maxLength: 100 }), deep), { maxLength: 15 }),
        fc.constantFrom("\n", "\r\n"),
        uploadQuery,
        async (lines, eol, query) => {
          const res = await app.inject({ method: "POST", url: `/v1/batches?${queryString(query)}`, payload: lines.join(eol), headers: { ...auth, "content-type": "application/x-ndjson" } });
          expectClientError(res);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("POST /v1/batches with tag-combination bodies", async () => {
    const axes = fc.dictionary(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("genre", "duration", "seed", "__proto__", "")), fc.oneof(fc.array(fc.oneof(nasty, fc.string({ maxLength: 20 })), { maxLength: 12 }), nasty), { maxKeys: 5 });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(json, fc.record({ model: fc.oneof(model, nasty), input: fc.oneof(json, fc.record({ tags: nasty, duration: nasty })), axes, variations: nasty, metadata: json, name: nasty, max_cost_usd: nasty }, { requiredKeys: ["axes"] })),
        async (body) => {
          const res = await app.inject({ method: "POST", url: "/v1/batches?dry_run=true", payload: JSON.stringify(body), headers: { ...auth, "content-type": "application/json" } });
          expectClientError(res);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("fuzzed bodies of the other writes", () => {
  const cases: [string, string, fc.Arbitrary<unknown>][] = [
    ["POST", "/v1/schedules", fc.record({ name: nasty, cron: fc.oneof(nasty, fc.constantFrom("* * * * *", "0 9 * * 1-5", "*/0 * * * *", "61 * * * *", "@hourly")), every_seconds: nasty, timezone: fc.oneof(nasty, fc.constantFrom("Europe/Berlin", "Mars/Olympus", "UTC")), model: fc.oneof(model, nasty), input: json, overlap: nasty, max_runs: nasty }, { requiredKeys: [] })],
    ["POST", "/v1/webhooks", fc.record({ url: fc.oneof(nasty, fc.constantFrom("https://hooks.example/x", "http://127.0.0.1/x", "ftp://x", "https://")), events: fc.oneof(nasty, fc.array(nasty, { maxLength: 4 })), secret: nasty, description: nasty }, { requiredKeys: [] })],
    ["POST", "/v1/keys", fc.record({ name: nasty, scopes: fc.oneof(nasty, fc.array(fc.oneof(nasty, fc.constantFrom("jobs:write", "admin")), { maxLength: 4 })), rate_limit_per_minute: nasty }, { requiredKeys: [] })],
    ["PUT", "/v1/budget", fc.record({ limit_usd: nasty, period: fc.oneof(nasty, fc.constantFrom("day", "month", "none")), timezone: nasty }, { requiredKeys: [] })],
  ];
  for (const [method, url, body] of cases) {
    it(`${method} ${url}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(json, body), async (value) => {
          const res = await app.inject({ method: method as "POST", url, payload: JSON.stringify(value), headers: { ...auth, "content-type": "application/json" } });
          expectClientError(res);
        }),
        { numRuns: RUNS },
      );
    });
  }
});
