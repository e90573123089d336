import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { REDACTED, redactSecretFields } from "./log-redact.ts";
import { createLogger } from "./logger.ts";

/** Every path pino's `redact` option was given before this redactor replaced it: each must stay covered. */
const FORMER_PINO_PATHS = [
  ["token"], ["x", "token"], ["apiKey"], ["x", "apiKey"], ["authorization"], ["x", "authorization"],
  ["req", "headers", "authorization"], ["req", "headers", "cookie"], ["req", "headers", "idempotency-key"],
  ["headers", "authorization"], ["x", "headers", "authorization"], ["secret"], ["x", "secret"],
  ["adminKey"], ["x", "adminKey"], ["secretAccessKey"], ["x", "secretAccessKey"], ["x", "y", "secretAccessKey"],
  ["x", "y", "z", "secretAccessKey"], ["x", "y", "token"], ["x", "y", "z", "token"], ["x", "y", "secret"],
  ["x", "y", "authorization"], ["sessionToken"], ["x", "sessionToken"], ["x", "y", "sessionToken"],
  ["password"], ["x", "password"], ["x", "y", "adminKey"], ["RUNCOMFY_TOKEN"], ["x", "RUNCOMFY_TOKEN"],
  ["ACEBATCH_ADMIN_KEY"], ["x", "ACEBATCH_ADMIN_KEY"], ["S3_SECRET_ACCESS_KEY"], ["x", "S3_SECRET_ACCESS_KEY"],
  ["URL_SIGNING_SECRET"], ["x", "URL_SIGNING_SECRET"], ["WEBHOOK_SECRET"], ["x", "WEBHOOK_SECRET"],
  ["req", "headers", "x-api-key"], ["headers", "cookie"], ["x", "headers", "cookie"], ["headers", "set-cookie"],
  ["x", "headers", "set-cookie"], ["query", "key"], ["query", "signature"], ["x", "query", "key"], ["x", "query", "signature"],
] as const;

function nested(path: readonly string[], leaf: unknown): Record<string, unknown> {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), leaf) as Record<string, unknown>;
}

function at(value: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((v, key) => (v as Record<string, unknown>)[key], value);
}

describe("redactSecretFields", () => {
  it.each(FORMER_PINO_PATHS.map((p) => [p.join("."), p] as const))("masks %s", (_name, path) => {
    const line = { ...nested(path, "SECRET-VALUE"), jobId: "job_1" };
    const out = redactSecretFields(line);
    expect(at(out, path)).toBe(REDACTED);
    expect(out.jobId).toBe("job_1");
    expect(at(line, path)).toBe("SECRET-VALUE"); // the caller's object is untouched
  });

  it("masks secrets inside arrays and deeper than the old path list reached", () => {
    const out = redactSecretFields({ endpoints: [{ url: "http://h", secret: "S1" }], a: { b: { c: { d: { e: { token: "T" } } } } } });
    expect(out).toEqual({ endpoints: [{ url: "http://h", secret: REDACTED }], a: { b: { c: { d: { e: { token: REDACTED } } } } } });
  });

  it("leaves ordinary fields alone: `key` and `signature` are only secrets in a query", () => {
    const line = { key: "jobs/job_1/audio.wav", signature: "v1", storage: { key: "k" }, model: "m", count: 3, ok: true, none: null };
    expect(redactSecretFields(line)).toBe(line); // nothing to hide: the same object, no copy
  });

  it("does not walk class instances, and a cycle ends at the depth bound", () => {
    const err = Object.assign(new Error("boom"), { token: "T" });
    const cyclic: Record<string, unknown> = { name: "c" };
    cyclic.self = cyclic;
    const out = redactSecretFields({ err, cyclic, buf: Buffer.from("token") });
    expect(out.err).toBe(err);
    expect(out.cyclic).toBe(cyclic);
  });

  it("masks a field named like a secret even when its value is an object or null", () => {
    expect(redactSecretFields({ headers: { cookie: ["a=1"] }, token: null })).toEqual({ headers: { cookie: REDACTED }, token: REDACTED });
  });
});

describe("the logger", () => {
  function capture() {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    return { logger: createLogger({ name: "t", level: "info" }, sink), lines };
  }

  it("masks credential fields in the line, in a child's bindings and in a logged error's own fields", () => {
    const { logger, lines } = capture();
    const child = logger.child({ jobId: "job_1", provider: { token: "BOUND-TOKEN" } });
    child.info({ config: { storage: { s3: { secretAccessKey: "S3-SECRET" } } }, model: "m" }, "started");
    child.error({ err: Object.assign(new Error("refused"), { authorization: "Bearer AUTH" }) }, "failed");
    const [started, failed] = lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(started).toMatchObject({ jobId: "job_1", provider: { token: REDACTED }, config: { storage: { s3: { secretAccessKey: REDACTED } } }, model: "m", msg: "started" });
    expect(failed!.err).toMatchObject({ message: "refused", authorization: REDACTED });
    expect(lines.join("")).not.toMatch(/BOUND-TOKEN|S3-SECRET|Bearer AUTH/);
  });
});
