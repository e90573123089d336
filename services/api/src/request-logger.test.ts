import { Writable } from "node:stream";
import { createLogger } from "@acebatch/config";
import { describe, expect, it } from "vitest";
import { lazyRequestLogger } from "./request-logger.ts";

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
