import { createLogger } from "@acebatch/config";
import { ProviderError, type RunComfyClient } from "@acebatch/provider";
import { describe, expect, it } from "vitest";
import type { AuthGuard } from "./auth-guard.ts";
import type { ProviderGate } from "./provider-gate.ts";
import { createResilientProvider } from "./resilient-provider.ts";

const logger = createLogger({ name: "resilient-test", level: "silent" });

const throttled = () =>
  new ProviderError({ message: "HTTP 429", exitClass: 75, code: "provider_rate_limited", retryable: true, call: "submit", httpStatus: 429, retryAfterMs: 0 });
const serverError = () =>
  new ProviderError({ message: "HTTP 502", exitClass: 69, code: "provider_unavailable", retryable: true, call: "submit", httpStatus: 502, ambiguous: true });
const notSent = () => new ProviderError({ message: "connection refused", exitClass: 69, code: "provider_unavailable", retryable: true, call: "submit" });

/** A client whose submits fail with `failures` in turn, then succeed; every hook call is logged in order. */
function harness(failures: (() => ProviderError)[], resubmitAmbiguous = true) {
  const events: string[] = [];
  const client = {
    async submit(_model: string, _input: unknown, options: { onSend?: () => Promise<void> }) {
      await options.onSend?.();
      events.push("sent");
      const failure = failures.shift();
      if (failure) throw failure();
      return { requestId: "req-1" };
    },
  } as unknown as RunComfyClient;
  const gate = { throttled: async () => ({ holdMs: 0, streak: 1, rate: 0 }), succeeded: async () => undefined } as unknown as ProviderGate;
  const auth = { refused: async () => undefined } as unknown as AuthGuard;
  const provider = createResilientProvider({ client, gate, auth, settings: { callRetries: 3, retryBaseMs: 1, resubmitAmbiguous } });
  const submit = () =>
    provider.submit("acestep-ai/ace-step/text-to-audio", {}, {
      logger,
      onSend: async () => void events.push("onSend"),
      onSubmitNotCreated: async () => void events.push("notCreated"),
      onAmbiguousSubmit: async () => void events.push("ambiguous"),
    });
  return { events, submit };
}

describe("resilient provider: what a failed submit tells the caller before it is sent again", () => {
  it("a throttled or never-sent submit created nothing", async () => {
    const { events, submit } = harness([throttled, notSent]);
    expect(await submit()).toEqual({ requestId: "req-1" });
    expect(events).toEqual(["onSend", "sent", "notCreated", "onSend", "sent", "notCreated", "onSend", "sent"]);
  });

  it("a 5xx answer may have created a paid request: it is reported as ambiguous, never as not created", async () => {
    const { events, submit } = harness([serverError]);
    expect(await submit()).toEqual({ requestId: "req-1" });
    expect(events).toEqual(["onSend", "sent", "ambiguous", "onSend", "sent"]);
  });

  it("nothing is reported when the submit is not going to be sent again", async () => {
    const { events, submit } = harness([serverError], false);
    await expect(submit()).rejects.toMatchObject({ ambiguous: true });
    expect(events).toEqual(["onSend", "sent"]);
  });
});

describe("resilient provider: refusals", () => {
  const refusing = (error: ProviderError) => {
    const refused: string[] = [];
    const client = {
      async status() {
        throw error;
      },
    } as unknown as RunComfyClient;
    const gate = { throttled: async () => ({ holdMs: 0, streak: 1, rate: 0 }), succeeded: async () => undefined } as unknown as ProviderGate;
    const auth = { refused: async (message: string) => void refused.push(message) } as unknown as AuthGuard;
    const provider = createResilientProvider({ client, gate, auth, settings: { callRetries: 3, retryBaseMs: 1, resubmitAmbiguous: true } });
    return { refused, status: () => provider.status("req-1", { logger }) };
  };

  it("a refused token pauses the queue and hands the job back", async () => {
    const { refused, status } = refusing(new ProviderError({ message: "token expired", exitClass: 77, code: "provider_auth_failed", retryable: false, call: "status", httpStatus: 401 }));
    await expect(status()).rejects.toMatchObject({ name: "HandBack" });
    expect(refused).toEqual(["token expired"]);
  });

  it("a request that belongs to another account (403001) fails that job and leaves the queue running", async () => {
    const { refused, status } = refusing(
      new ProviderError({ message: "request belongs to another user", exitClass: 77, code: "provider_request_forbidden", retryable: false, call: "status", httpStatus: 403 }),
    );
    await expect(status()).rejects.toMatchObject({ code: "provider_request_forbidden", exitClass: 77 });
    expect(refused).toEqual([]);
  });
});
