import { Writable } from "node:stream";
import { createLogger } from "@acebatch/config";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { AccessLogController, lazyRequestLogger } from "./request-logger.ts";

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ name: "api", level }, sink), lines };
}

describe("lazyRequestLogger", () => {
  it("writes enabled lines with the request's bindings, redacted like any other line", async () => {
    const { logger, lines } = capture("info");
    const log = lazyRequestLogger(logger, { reqId: "req_1" }, {});
    log.info({ authorization: "Bearer secret-token-123" }, "hello");
    log.debug("not enabled");
    await new Promise((r) => setTimeout(r, 20));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reqId: "req_1", msg: "hello", authorization: "[redacted]" });
  });

  it("makes no child until a line is enabled, and honours a route's own level", async () => {
    const { logger, lines } = capture("warn");
    let children = 0;
    const counting = Object.create(logger, { child: { value: (...a: Parameters<typeof logger.child>) => (children++, logger.child(...a)) } }) as typeof logger;
    const quiet = lazyRequestLogger(counting, { reqId: "req_2" }, {});
    quiet.info("skipped");
    expect(children).toBe(0);
    quiet.error("kept");
    const chatty = lazyRequestLogger(counting, { reqId: "req_3" }, { level: "debug" });
    chatty.debug("route-level debug");
    expect(chatty.level).toBe("debug");
    await new Promise((r) => setTimeout(r, 20));
    expect(children).toBe(2);
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([
      ["req_2", "kept"],
      ["req_3", "route-level debug"],
    ]);
  });
});

describe("AccessLogController", () => {
  async function requestLines(level: string, url: string) {
    const { logger, lines } = capture(level);
    const app = Fastify({ loggerInstance: logger, childLoggerFactory: lazyRequestLogger, logController: new AccessLogController() });
    app.decorateRequest("accessLog", null);
    app.get("/ok", async (request) => {
      request.accessLog = { jobId: "job_1" };
      return { ok: true };
    });
    app.get("/boom", async () => {
      throw new Error("kaput");
    });
    await app.inject({ method: "GET", url });
    await app.close();
    await new Promise((r) => setTimeout(r, 20));
    return lines;
  }

  it("logs one access line per request at info: method, URL (credentials masked), status, time and the handler's fields", async () => {
    const lines = await requestLines("info", "/ok?key=ak_0123456789abcdefghijklmn");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: "request completed", jobId: "job_1", req: { method: "GET", url: "/ok?key=[redacted]" }, res: { statusCode: 200 } });
    expect(typeof lines[0]!.responseTime).toBe("number");
  });

  it("adds the arrival line at debug", async () => {
    const lines = await requestLines("debug", "/ok");
    expect(lines.map((l) => l.msg)).toEqual(["incoming request", "request completed"]);
  });

  it("logs a failed request at error with the request and the error", async () => {
    const lines = await requestLines("info", "/boom");
    const errored = lines.find((l) => l.msg === "request errored" || (l.level as number) >= 50);
    expect(errored).toMatchObject({ level: 50, req: { method: "GET", url: "/boom" } });
  });
});
