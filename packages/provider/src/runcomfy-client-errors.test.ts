import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { CallOutcome } from "./http-call.ts";
import type { ProviderCall } from "./provider-call.ts";
import { ProviderError } from "./provider-error.ts";
import { createRunComfyClient, type RunComfyClient } from "./runcomfy-client.ts";
import { closedPort, sendJson, startScriptedServer, type ScriptedServer } from "./test-support/scripted-server.ts";

const TOKEN = "rc_secret_token_abcdef";
const MODEL = "acestep-ai/ace-step/text-to-audio";
const NOW = Date.parse("2025-06-01T12:00:00Z");
let api: ScriptedServer;
let client: RunComfyClient;

beforeEach(async () => {
  api = await startScriptedServer();
  client = createRunComfyClient({ baseUrl: `${api.origin}/v1`, token: TOKEN, requestTimeoutMs: 300, now: () => NOW });
});
afterEach(async () => {
  await api.close();
});

async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe("HTTP failures are classified once", () => {
  const rows: [number, Record<string, unknown>, Partial<ProviderError>][] = [
    [401, { error_code: 400004, error_message: "token expired" }, { exitClass: 77, code: "provider_auth_failed", retryable: false }],
    [403, { detail: "forbidden" }, { exitClass: 77, code: "provider_auth_failed", retryable: false }],
    [403, { error_code: 403001, message: "request belongs to another user" }, { exitClass: 77, code: "provider_request_forbidden", providerCode: 403001 }],
    [402, { message: "pay up" }, { exitClass: 65, code: "provider_insufficient_balance", retryable: false }],
    [400, { error_code: 400002, error_message: "insufficient balance" }, { exitClass: 65, code: "provider_insufficient_balance", retryable: false }],
    [408, {}, { exitClass: 75, code: "provider_timeout", retryable: true }],
    [429, { error_message: "slow down" }, { exitClass: 75, code: "provider_rate_limited", retryable: true }],
    [400, { error_message: "duration must be <= 240" }, { exitClass: 65, code: "provider_rejected_input", retryable: false }],
    [422, { detail: [{ msg: "tags required" }] }, { exitClass: 65, code: "provider_rejected_input", retryable: false }],
    [500, { error_message: "boom" }, { exitClass: 69, code: "provider_unavailable", retryable: true }],
    [502, {}, { exitClass: 69, code: "provider_unavailable", retryable: true }],
  ];
  for (const [status, body, expected] of rows) {
    it(`HTTP ${status} ${JSON.stringify(body)} on status → ${expected.code}`, async () => {
      api.handle((_req, res) => sendJson(res, status, body));
      const error = await providerError(client.status("req-9"));
      expect(error).toMatchObject({ ...expected, httpStatus: status, call: "status", requestId: "req-9", ambiguous: false });
      const text = (body.error_message ?? body.message ?? (typeof body.detail === "string" ? body.detail : undefined)) as string | undefined;
      if (text) expect(error.message).toContain(text);
    });
  }

  it("answers that are not JSON still classify by status", async () => {
    api.handle((_req, res) => {
      res.writeHead(503, { "content-type": "text/html" });
      res.end("<html>maintenance</html>");
    });
    expect(await providerError(client.status("r"))).toMatchObject({ exitClass: 69, code: "provider_unavailable", httpStatus: 503 });
  });
});

describe("Retry-After", () => {
  it("fills retryAfterMs from seconds on a 429", async () => {
    api.handle((_req, res) => sendJson(res, 429, { error_message: "rate limited" }, { "retry-after": "7" }));
    expect(await providerError(client.status("r"))).toMatchObject({ code: "provider_rate_limited", retryAfterMs: 7_000 });
  });

  it("fills retryAfterMs from an HTTP-date on a 503", async () => {
    api.handle((_req, res) => sendJson(res, 503, {}, { "retry-after": new Date(NOW + 30_000).toUTCString() }));
    expect(await providerError(client.status("r"))).toMatchObject({ code: "provider_unavailable", retryAfterMs: 30_000 });
  });

  it("leaves retryAfterMs null without the header", async () => {
    api.handle((_req, res) => sendJson(res, 429, {}));
    expect((await providerError(client.status("r"))).retryAfterMs).toBeNull();
  });
});

describe("timeouts and network errors", () => {
  it("a call that does not answer in time is exit 75 provider_timeout", async () => {
    api.handle(() => {}); // never answers
    const error = await providerError(client.status("slow"));
    expect(error).toMatchObject({ exitClass: 75, code: "provider_timeout", retryable: true, httpStatus: null, ambiguous: false });
    expect(error.message).toContain("timed out after 300 ms");
  });

  it("a submit that times out after sending is ambiguous", async () => {
    api.handle(() => {});
    const error = await providerError(client.submit(MODEL, { tags: "x" }));
    expect(error).toMatchObject({ exitClass: 75, code: "provider_timeout", ambiguous: true, call: "submit" });
    expect(api.requests).toHaveLength(1);
  });

  it("a submit whose connection drops after the body was sent is ambiguous", async () => {
    api.handle((req) => {
      req.socket.destroy();
    });
    const error = await providerError(client.submit(MODEL, { tags: "x" }));
    expect(error).toMatchObject({ exitClass: 69, code: "provider_unavailable", retryable: true, ambiguous: true, httpStatus: null });
    expect(api.requests[0]?.body).toBe('{"tags":"x"}');
  });

  it("a submit that cannot connect is not ambiguous", async () => {
    const refused = createRunComfyClient({ baseUrl: `http://127.0.0.1:${await closedPort()}/v1`, token: TOKEN, requestTimeoutMs: 2_000 });
    const error = await providerError(refused.submit(MODEL, { tags: "x" }));
    expect(error).toMatchObject({ exitClass: 69, code: "provider_unavailable", ambiguous: false });
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("a 5xx on submit is ambiguous, a 429 or 4xx is not", async () => {
    api.handle((_req, res) => sendJson(res, 500, {}));
    expect(await providerError(client.submit(MODEL, { tags: "x" }))).toMatchObject({ code: "provider_unavailable", ambiguous: true });
    api.handle((_req, res) => sendJson(res, 429, {}));
    expect(await providerError(client.submit(MODEL, { tags: "x" }))).toMatchObject({ code: "provider_rate_limited", ambiguous: false });
    api.handle((_req, res) => sendJson(res, 400, {}));
    expect(await providerError(client.submit(MODEL, { tags: "x" }))).toMatchObject({ code: "provider_rejected_input", ambiguous: false });
  });

  it("an answer over 1 MB or in an encoding that cannot be decoded is an invalid response (ambiguous for a 2xx submit)", async () => {
    api.handle((_req, res) => sendJson(res, 200, { request_id: "r-1", pad: "x".repeat(1024 * 1024) }));
    const tooLarge = await providerError(client.submit(MODEL, { tags: "x" }));
    expect(tooLarge).toMatchObject({ code: "provider_invalid_response", httpStatus: 200, ambiguous: true });
    expect(tooLarge.message).toContain("larger than 1048576 bytes");
    api.handle((_req, res) => sendJson(res, 200, { status: "in_queue" }, { "content-encoding": "compress" }));
    const undecodable = await providerError(client.status("r-1"));
    expect(undecodable).toMatchObject({ code: "provider_invalid_response", httpStatus: 200, ambiguous: false });
    expect(undecodable.message).toContain('unsupported Content-Encoding "compress"');
  });

  it("a 2xx submit answer without a request_id is an ambiguous invalid response", async () => {
    api.handle((_req, res) => sendJson(res, 200, { status: "in_queue" }));
    expect(await providerError(client.submit(MODEL, { tags: "x" }))).toMatchObject({ exitClass: 69, code: "provider_invalid_response", retryable: true, ambiguous: true });
  });

  it("the caller's abort stops the call and is reported as cancelled", async () => {
    api.handle(() => {});
    const controller = new AbortController();
    const pending = providerError(client.status("r", { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    expect(await pending).toMatchObject({ code: "cancelled", retryable: true, ambiguous: false });
    const already = await providerError(client.submit(MODEL, { tags: "x" }, { signal: AbortSignal.abort() }));
    expect(already).toMatchObject({ code: "cancelled", ambiguous: false });
    expect(api.requests).toHaveLength(1);
  });
});

describe("the token", () => {
  it("never appears in an error message, even when the provider echoes it", async () => {
    api.handle((_req, res) => sendJson(res, 401, { error_message: `invalid token ${TOKEN}` }));
    const error = await providerError(client.status("r"));
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).toContain("[redacted]");
  });

  it("is not sent along a redirect to another host", async () => {
    const other = await startScriptedServer();
    try {
      other.handle((_req, res) => sendJson(res, 200, { status: "completed" }));
      api.handle((_req, res) => {
        res.writeHead(302, { location: `${other.origin}/v1/requests/r/status` });
        res.end();
      });
      const error = await providerError(client.status("r"));
      expect(error).toMatchObject({ httpStatus: 302, code: "provider_unavailable" });
      expect(error.message).toContain("not followed");
      expect(other.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});

describe("hooks", () => {
  it("awaits beforeCall before every HTTP call and reports each call to afterCall", async () => {
    const events: string[] = [];
    const outcomes: [ProviderCall, CallOutcome][] = [];
    const hooked = createRunComfyClient({
      baseUrl: `${api.origin}/v1`,
      token: TOKEN,
      beforeCall: async (call) => {
        events.push(`before:${call.kind}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        events.push(`released:${call.kind}:${api.requests.length}`);
      },
      afterCall: (call, outcome) => {
        outcomes.push([call, outcome]);
        throw new Error("a broken metrics hook must not matter");
      },
    });
    api.handle((req, res) => (req.url?.includes("/models/") ? sendJson(res, 200, { request_id: "r1" }) : sendJson(res, 429, {})));
    expect(await hooked.submit(MODEL, { tags: "x" })).toEqual({ requestId: "r1" });
    await providerError(hooked.status("r1"));
    expect(events).toEqual(["before:submit", "released:submit:0", "before:status", "released:status:1"]);
    expect(outcomes.map(([call, o]) => [call, o.httpStatus, o.error?.code])).toEqual([
      [{ kind: "submit", model: MODEL }, 200, undefined],
      [{ kind: "status", requestId: "r1" }, 429, "provider_rate_limited"],
    ]);
    expect(outcomes.every(([, o]) => o.durationMs >= 0)).toBe(true);
  });

  it("makes no call when beforeCall rejects", async () => {
    const limited = createRunComfyClient({ baseUrl: `${api.origin}/v1`, token: TOKEN, beforeCall: () => Promise.reject(new Error("limiter down")) });
    await expect(limited.status("r")).rejects.toThrow("limiter down");
    expect(api.requests).toHaveLength(0);
  });
});
