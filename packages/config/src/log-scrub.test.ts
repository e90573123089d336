import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";
import { redactUrl, scrubSecrets, serializeRequest } from "./log-scrub.ts";

function capture(secrets?: string[]) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ name: "t", level: "trace", secrets }, sink), text: () => lines.join("") };
}

describe("log scrubbing", () => {
  it("masks credential query values and leaves the rest of a URL alone", () => {
    expect(redactUrl("/admin/queues?key=ak_abc&tab=failed")).toBe("/admin/queues?key=[redacted]&tab=failed");
    expect(redactUrl("/v1/jobs/j/audio?expires=1&signature=abc")).toBe("/v1/jobs/j/audio?expires=1&signature=[redacted]");
    expect(redactUrl("/v1/jobs?status=queued&monkey=1")).toBe("/v1/jobs?status=queued&monkey=1");
  });

  it("masks ak_ keys anywhere but not words that merely contain ak_", () => {
    expect(scrubSecrets("bad key ak_0123456789abcdefghijkl!")).toBe("bad key ak_[redacted]!");
    expect(scrubSecrets("a break_between_two_long_words_here")).toBe("a break_between_two_long_words_here");
  });

  it("serializes a request without headers and without secrets in its URL", () => {
    expect(serializeRequest({ method: "GET", url: "/x?key=s3cr3t", ip: "127.0.0.1", headers: { authorization: "Bearer s3cr3t" } })).toEqual({
      method: "GET",
      url: "/x?key=[redacted]",
      host: undefined,
      remoteAddress: "127.0.0.1",
      remotePort: undefined,
    });
  });

  it("keeps tokens, keys and S3 secrets out of logger output: by path, by known value, by shape", () => {
    const { logger, text } = capture(["provider-token-value-42"]);
    logger.info({ config: { storage: { s3: { secretAccessKey: "S3-SECRET-VALUE" } }, provider: { token: "provider-token-value-42" } } }, "config");
    logger.info({ req: { method: "GET", url: "/admin/queues?key=ak_0123456789abcdefghijklmn", headers: { authorization: "Bearer ak_x" } } }, "req");
    logger.warn(`provider refused provider-token-value-42 for key ak_0123456789abcdefghijklmn`);
    logger.error({ err: new Error("GET /x?signature=SIG-VALUE failed") }, "boom");
    logger.info({ headers: { authorization: "Bearer AUTH-VALUE", cookie: "acebatch_key=COOKIE-VALUE" } }, "headers");
    const out = text();
    expect(out.split("\n").filter(Boolean)).toHaveLength(5);
    for (const secret of ["S3-SECRET-VALUE", "provider-token-value-42", "ak_0123456789abcdefghijklmn", "SIG-VALUE", "AUTH-VALUE", "COOKIE-VALUE"]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain("[redacted]");
  });
});
