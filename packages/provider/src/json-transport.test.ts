import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { readBodyText, RequestNotSentError, ResponseTooLargeError, sendJsonRequest, UnsupportedEncodingError } from "./json-transport.ts";
import { closedPort, sendJson, startScriptedServer, type ScriptedServer } from "./test-support/scripted-server.ts";

let server: ScriptedServer;
beforeEach(async () => {
  server = await startScriptedServer();
});
afterEach(async () => {
  await server.close();
});

const never = new AbortController().signal;
const get = (signal: AbortSignal = never) => sendJsonRequest({ url: `${server.origin}/x`, method: "GET", headers: { accept: "application/json" }, signal });

async function settled(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => "resolved",
    (error: unknown) => error,
  );
}

describe("sendJsonRequest", () => {
  it("sends method, headers, body and its length, asks for an uncompressed answer, and returns the head", async () => {
    server.handle((_req, res) => sendJson(res, 201, { ok: true }, { "retry-after": "3" }));
    const response = await sendJsonRequest({ url: `${server.origin}/models/m`, method: "POST", headers: { authorization: "Bearer t" }, body: '{"é":1}', signal: never });
    expect(response).toMatchObject({ status: 201, statusText: "Created" });
    expect(response.header("Retry-After")).toBe("3");
    expect(response.header("location")).toBeNull();
    expect(await readBodyText(response, never)).toBe('{"ok":true}');
    expect(server.requests[0]).toMatchObject({ method: "POST", url: "/models/m", body: '{"é":1}' });
    expect(server.requests[0]!.headers).toMatchObject({ authorization: "Bearer t", "accept-encoding": "identity", "content-length": "8" });
  });

  it("returns a redirect as it is, without following it", async () => {
    server.handle((_req, res) => {
      res.writeHead(302, { location: "http://127.0.0.1:1/elsewhere" });
      res.end();
    });
    const response = await get();
    expect(response.status).toBe(302);
    expect(response.header("location")).toBe("http://127.0.0.1:1/elsewhere");
    expect(server.requests).toHaveLength(1);
  });

  it("a refused connection is RequestNotSentError with the cause's code", async () => {
    const port = await closedPort();
    const error = await settled(sendJsonRequest({ url: `http://127.0.0.1:${port}/x`, method: "POST", headers: {}, body: "{}", signal: never }));
    expect(error).toBeInstanceOf(RequestNotSentError);
    expect(error).toMatchObject({ code: "ECONNREFUSED" });
  });

  it("a request Node refuses to send (a header value with a line break) is RequestNotSentError", async () => {
    const error = await settled(sendJsonRequest({ url: `${server.origin}/x`, method: "POST", headers: { authorization: "Bearer a\r\nx-injected: 1" }, body: "{}", signal: never }));
    expect(error).toBeInstanceOf(RequestNotSentError);
    expect(server.requests).toHaveLength(0);
  });

  it("an abort while connecting is RequestNotSentError; once connected it is not", async () => {
    const early = new AbortController();
    const before = sendJsonRequest({ url: `${server.origin}/x`, method: "POST", headers: {}, body: "{}", signal: early.signal });
    early.abort(new Error("stop"));
    expect(await settled(before)).toBeInstanceOf(RequestNotSentError);

    server.handle(() => undefined); // never answers
    const late = new AbortController();
    const after = sendJsonRequest({ url: `${server.origin}/x`, method: "POST", headers: {}, body: "{}", signal: late.signal });
    await expect.poll(() => server.requests.length).toBe(1);
    late.abort(new Error("stop"));
    const error = await settled(after);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(RequestNotSentError);
  });

  it("a failure on a kept-alive connection counts as possibly sent", async () => {
    let calls = 0;
    server.handle((req, res) => {
      if (++calls === 1) return sendJson(res, 200, {});
      req.socket.destroy(); // the second request, on the same connection, breaks after arriving
    });
    await readBodyText(await get(), never);
    const error = await settled(get());
    expect(calls).toBe(2);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(RequestNotSentError);
  });
});

describe("readBodyText", () => {
  it("decodes gzip, deflate and br bodies a server compressed anyway", async () => {
    const text = JSON.stringify({ status: "completed", pad: "x".repeat(500) });
    for (const [encoding, bytes] of [["gzip", gzipSync(text)], ["deflate", deflateSync(text)], ["br", brotliCompressSync(text)]] as const) {
      server.handle((_req, res) => {
        res.writeHead(200, { "content-type": "application/json", "content-encoding": encoding, "content-length": bytes.length });
        res.end(bytes);
      });
      expect(await readBodyText(await get(), never)).toBe(text);
    }
  });

  it("refuses an encoding it cannot decode", async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { "content-encoding": "zstd" });
      res.end("??");
    });
    const error = await settled(readBodyText(await get(), never));
    expect(error).toBeInstanceOf(UnsupportedEncodingError);
    expect((error as Error).message).toContain('"zstd"');
  });

  it("refuses a body over the limit, declared or streamed, and a compressed one that inflates past it", async () => {
    server.handle((_req, res) => sendJson(res, 200, "x".repeat(2_000)));
    expect(await settled(readBodyText(await get(), never, 1_000))).toBeInstanceOf(ResponseTooLargeError);

    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }); // chunked, no length
      res.write("x".repeat(600));
      setTimeout(() => res.end("x".repeat(600)), 5);
    });
    expect(await settled(readBodyText(await get(), never, 1_000))).toBeInstanceOf(ResponseTooLargeError);

    const bomb = gzipSync("x".repeat(50_000));
    server.handle((_req, res) => {
      res.writeHead(200, { "content-encoding": "gzip", "content-length": bomb.length });
      res.end(bomb);
    });
    expect(bomb.length).toBeLessThan(1_000);
    expect(await settled(readBodyText(await get(), never, 1_000))).toBeInstanceOf(ResponseTooLargeError);
  });

  it("rejects when the connection breaks before the body ends, plain or compressed", async () => {
    for (const encoding of [undefined, "gzip"]) {
      server.handle((_req, res) => {
        const head = encoding ? gzipSync("x".repeat(5_000)).subarray(0, 20) : Buffer.from("{\"partial\":");
        res.writeHead(200, { "content-length": 10_000, ...(encoding ? { "content-encoding": encoding } : {}) });
        res.write(head, () => setTimeout(() => res.socket?.destroy(), 5));
      });
      const error = await settled(readBodyText(await get(), never));
      expect(error, `encoding ${encoding}`).toBeInstanceOf(Error);
    }
  });

  it("rejects with the signal's reason when it aborts mid-body", async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("{"); // and nothing more
    });
    const controller = new AbortController();
    const response = await get(controller.signal);
    const reading = readBodyText(response, controller.signal);
    const reason = new Error("time is up");
    controller.abort(reason);
    expect(await settled(reading)).toBe(reason);
  });
});
