import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { ProviderError } from "./provider-error.ts";
import { createRunComfyClient, type RunComfyClient } from "./runcomfy-client.ts";
import { sendJson, startScriptedServer, type ScriptedServer } from "./test-support/scripted-server.ts";

const TOKEN = "rc_test_token_123456";
let api: ScriptedServer;
let client: RunComfyClient;

beforeEach(async () => {
  api = await startScriptedServer();
  client = createRunComfyClient({ baseUrl: `${api.origin}/v1/`, token: TOKEN, requestTimeoutMs: 2_000 });
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

describe("submit", () => {
  it("POSTs the input to /models/{model} with the model id verbatim and the bearer token", async () => {
    api.handle((_req, res) =>
      sendJson(res, 200, {
        request_id: "req-1",
        status: "in_queue",
        status_url: `${api.origin}/v1/requests/req-1/status`,
        result_url: `${api.origin}/v1/requests/req-1/result`,
        cancel_url: `${api.origin}/v1/requests/req-1/cancel`,
      }),
    );
    const submitted = await client.submit("acestep-ai/ace-step-1.5/text-to-audio", { tags: "lo-fi", duration: 30, seed: -1 });
    expect(submitted).toEqual({
      requestId: "req-1",
      statusUrl: `${api.origin}/v1/requests/req-1/status`,
      resultUrl: `${api.origin}/v1/requests/req-1/result`,
      cancelUrl: `${api.origin}/v1/requests/req-1/cancel`,
    });
    const [req] = api.requests;
    expect(req?.method).toBe("POST");
    expect(req?.url).toBe("/v1/models/acestep-ai/ace-step-1.5/text-to-audio");
    expect(req?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req?.body ?? "")).toEqual({ tags: "lo-fi", duration: 30, seed: -1 });
  });

  it("accepts an answer with only a request_id", async () => {
    api.handle((_req, res) => sendJson(res, 202, { request_id: "req-2" }));
    expect(await client.submit("acestep-ai/ace-step/text-to-audio", { tags: "x" })).toEqual({ requestId: "req-2" });
  });

  it("treats a 200 carrying an error_code as a failure with the provider's message", async () => {
    api.handle((_req, res) => sendJson(res, 200, { error_code: 400001, error_message: "model not found: foo" }));
    const error = await providerError(client.submit("acestep-ai/ace-step/text-to-audio", { tags: "x" }));
    expect(error).toMatchObject({ exitClass: 65, code: "provider_rejected_input", retryable: false, httpStatus: 200, providerCode: 400001, ambiguous: false, call: "submit" });
    expect(error.message).toContain("model not found: foo");
  });

  it("does not treat error_code: null as a failure", async () => {
    api.handle((_req, res) => sendJson(res, 200, { request_id: "req-3", error_code: null }));
    expect((await client.submit("acestep-ai/ace-step/text-to-audio", { tags: "x" })).requestId).toBe("req-3");
  });

  it("refuses a model id that would leave the models path, before any call", async () => {
    await expect(client.submit("../requests/x/cancel" as never, {})).rejects.toThrow(TypeError);
    expect(api.requests).toHaveLength(0);
  });
});

describe("status", () => {
  const cases: [string, string][] = [
    ["IN_QUEUE", "in_queue"],
    ["in_progress", "in_progress"],
    ["Completed", "completed"],
    ["succeeded", "completed"],
    ["failed", "failed"],
    ["canceled", "cancelled"],
    ["CANCELLED", "cancelled"],
  ];
  for (const [raw, normalised] of cases) {
    it(`normalises "${raw}" to ${normalised}`, async () => {
      api.handle((_req, res) => sendJson(res, 200, { request_id: "req/1", status: raw, queue_position: 3 }));
      expect(await client.status("req/1")).toEqual({ requestId: "req/1", status: normalised, rawStatus: raw, queuePosition: 3 });
      expect(api.requests[0]?.url).toBe("/v1/requests/req%2F1/status");
      expect(api.requests[0]?.method).toBe("GET");
      expect(api.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    });
  }

  it("reports an unknown status as an invalid response, not a crash", async () => {
    api.handle((_req, res) => sendJson(res, 200, { request_id: "r", status: "exploded" }));
    const error = await providerError(client.status("r"));
    expect(error).toMatchObject({ exitClass: 69, code: "provider_invalid_response", retryable: true, ambiguous: false, requestId: "r" });
    expect(error.message).toContain("exploded");
  });

  it("reports malformed JSON and a missing status as invalid responses", async () => {
    api.handle((_req, res) => sendJson(res, 200, "{not json"));
    expect(await providerError(client.status("r"))).toMatchObject({ code: "provider_invalid_response", exitClass: 69 });
    api.handle((_req, res) => sendJson(res, 200, { request_id: "r" }));
    expect(await providerError(client.status("r"))).toMatchObject({ code: "provider_invalid_response", exitClass: 69 });
  });

  it("gives a null queue position when there is none or it is nonsense", async () => {
    api.handle((_req, res) => sendJson(res, 200, { status: "in_progress", queue_position: "soon" }));
    expect(await client.status("r")).toMatchObject({ requestId: "r", queuePosition: null });
  });
});

describe("result", () => {
  it("asks for the cost and extracts audio URL, cost, seed and timestamps", async () => {
    api.handle((_req, res) =>
      sendJson(res, 200, {
        request_id: "r1",
        status: "succeeded",
        output: { audio: "https://cdn.example/out.wav", seed: 1234 },
        cost: "0.018",
        created_at: "2025-01-01T00:00:00Z",
        finished_at: "2025-01-01T00:00:05Z",
        error: null,
      }),
    );
    expect(await client.result("r1")).toEqual({
      requestId: "r1",
      status: "completed",
      audioUrl: "https://cdn.example/out.wav",
      costUsd: 0.018,
      costMicroUsd: 18_000,
      error: null,
      seed: 1234,
      createdAt: "2025-01-01T00:00:00Z",
      finishedAt: "2025-01-01T00:00:05Z",
    });
    expect(api.requests[0]?.url).toBe("/v1/requests/r1/result?include_cost=true");
  });

  it("finds the URL in output.audios and takes a numeric cost", async () => {
    api.handle((_req, res) => sendJson(res, 200, { status: "completed", output: { audios: ["https://cdn.example/a.flac"] }, cost: 0.0003 }));
    expect(await client.result("r2", { includeCost: false })).toMatchObject({ audioUrl: "https://cdn.example/a.flac", costUsd: 0.0003, costMicroUsd: 300 });
    expect(api.requests[0]?.url).toBe("/v1/requests/r2/result");
  });

  it("walks output for a URL when neither audio nor audios is a string", async () => {
    api.handle((_req, res) => sendJson(res, 200, { status: "completed", output: { files: [{ type: "audio", url: "https://cdn.example/deep.mp3" }] } }));
    expect((await client.result("r3")).audioUrl).toBe("https://cdn.example/deep.mp3");
  });

  it("reports a failed request's error text", async () => {
    api.handle((_req, res) => sendJson(res, 200, { status: "failed", output: null, error: { message: "GPU fell over" } }));
    expect(await client.result("r4")).toMatchObject({ status: "failed", audioUrl: null, error: "GPU fell over", costUsd: null });
  });

  it("returns the current state of an unfinished request", async () => {
    api.handle((_req, res) => sendJson(res, 200, { request_id: "r5", status: "in_progress" }));
    expect(await client.result("r5")).toMatchObject({ status: "in_progress", audioUrl: null });
  });

  it("reports an expired request id as provider_request_expired", async () => {
    api.handle((_req, res) => sendJson(res, 404, { error_code: 404001, error_message: "request not found or expired" }));
    const error = await providerError(client.result("gone"));
    expect(error).toMatchObject({ exitClass: 65, code: "provider_request_expired", retryable: false, httpStatus: 404, providerCode: 404001, call: "result", requestId: "gone" });
    expect(error.message).toContain("request not found or expired");
  });
});

describe("cancel", () => {
  it("POSTs to /requests/{id}/cancel and normalises the outcome", async () => {
    api.handle((_req, res) => sendJson(res, 200, { request_id: "r", status: "canceled", outcome: "cancelled" }));
    expect(await client.cancel("r")).toEqual({ outcome: "cancelled", status: "cancelled" });
    expect(api.requests[0]).toMatchObject({ method: "POST", url: "/v1/requests/r/cancel" });
  });

  it("reports not_cancellable with the running status", async () => {
    api.handle((_req, res) => sendJson(res, 200, { request_id: "r", status: "in_progress", outcome: "NOT_CANCELLABLE" }));
    expect(await client.cancel("r")).toEqual({ outcome: "not_cancellable", status: "in_progress" });
  });

  it("rejects an unknown outcome as an invalid response", async () => {
    api.handle((_req, res) => sendJson(res, 200, { outcome: "maybe" }));
    expect(await providerError(client.cancel("r"))).toMatchObject({ code: "provider_invalid_response", call: "cancel" });
  });
});
