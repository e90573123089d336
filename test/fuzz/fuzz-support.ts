import { makeTestApp, TEST_ADMIN_KEY } from "@acebatch/api/test-app";
import fc from "fast-check";
import { expect } from "vitest";

// Adversarial input shared by the fuzz suites: wrong types, huge strings, deep nesting, NUL bytes,
// invalid UTF-8 and lone surrogates, prototype-pollution keys.

/** Runs per property; FUZZ_RUNS raises it for a longer hunt. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

/**
 * A fresh random seed on every local run (the hunt), but under CI the cases the commit was checked
 * against, so a merge is never decided by a lucky draw; FUZZ_SEED replays any seed fast-check reported.
 */
const CI_SEED = 20_261_124;
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : process.env.CI ? CI_SEED : undefined;
if (seed !== undefined) fc.configureGlobal({ seed });
export const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

export const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.constantFrom("\u0000", "\uD800", "\uFFFF", "__proto__", "constructor", "prototype", "x".repeat(100_000), "-1", "1e309", "NaN", "💥".repeat(1000)),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

export const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, nasty, fc.array(tie("value"), { maxLength: 5 }), tie("object")),
  object: fc.dictionary(
    fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "tags", "duration", "seed", "audio", "model", "input", "cron", "timezone", "url", "events", "scopes")),
    tie("value"),
    { maxKeys: 6 },
  ),
})).value;

/** Arrays nested 100–5,000 deep, as raw JSON text. */
export const deep = fc.integer({ min: 100, max: 5_000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth));

export const model = fc.constantFrom(
  "acestep-ai/ace-step/text-to-audio",
  "acestep-ai/ace-step-1.5/text-to-audio",
  "acestep-ai/ace-step/audio-inpaint",
  "acestep-ai/ace-step/audio-outpaint",
);

/** Header values as an HTTP client can send them (printable ASCII). */
export const headerValue = (maxLength = 200) => fc.string({ maxLength }).map((s) => s.replace(/[^\x20-\x7e]/g, ""));

/** A fuzz suite's app (a real app on the test's Redis, see makeTestApp) and its case counter. */
export async function startFuzzApp(redisUrl: string, label: string) {
  const testApp = await makeTestApp({ label, redisUrl });
  let cases = 0;
  return {
    app: testApp.app,
    redis: testApp.redis,
    prefix: testApp.prefix,
    storage: testApp.storage,
    cases: () => cases,
    /** The rule for every answer: never a 5xx, and every rejection a 4xx in the spec's error format (HEAD answers carry no body). */
    expectClientError(res: { statusCode: number; body: string; headers: Record<string, unknown> }, method = "GET") {
      cases++;
      expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
      if (res.statusCode >= 400 && method !== "HEAD") {
        const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
        expect(typeof body.error?.code, res.body.slice(0, 300)).toBe("string");
        expect(typeof body.error?.message, res.body.slice(0, 300)).toBe("string");
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
    close: testApp.close,
  };
}

export type FuzzApp = Awaited<ReturnType<typeof startFuzzApp>>;
