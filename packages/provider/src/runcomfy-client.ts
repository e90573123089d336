import type { ModelId } from "@acebatch/contracts";

import { performCall, type CallContext, type CallOutcome } from "./http-call.ts";
import type { ProviderCall } from "./provider-call.ts";
import {
  parseCancelResponse,
  parseResultResponse,
  parseStatusResponse,
  parseSubmitResponse,
  type CancelResult,
  type ResultResult,
  type StatusResult,
  type SubmitResult,
} from "./responses.ts";

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface RunComfyClientOptions {
  /** API base, e.g. `https://model-api.runcomfy.net/v1`. The token is sent to this host only. */
  baseUrl: string;
  token: string;
  /** Per HTTP call, milliseconds; default 30 000. */
  requestTimeoutMs?: number;
  /**
   * Awaited before EVERY HTTP call (the shared rate limiter plugs in here). A rejection is passed
   * to the caller unchanged and no call is made. The signal is the caller's, when it gave one.
   */
  beforeCall?: (call: ProviderCall, options: { signal?: AbortSignal }) => Promise<void>;
  /** Told about every HTTP call once it is over (metrics, adaptive rate control). Must not throw. */
  afterCall?: (call: ProviderCall, outcome: CallOutcome) => void;
  /** Clock for `Retry-After` dates; default `Date.now`. */
  now?: () => number;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Runs after `beforeCall` let the call through, right before the request leaves (submit uses it to mark "possibly sent"). */
  onSend?: () => Promise<void>;
}

/** The RunComfy Model API for one token. Every method throws `ProviderError` on failure. */
export interface RunComfyClient {
  readonly baseUrl: string;
  /** Start a paid request. Never retried here: on an `ambiguous` error a request may exist. */
  submit(model: ModelId, input: Record<string, unknown>, options?: CallOptions): Promise<SubmitResult>;
  status(requestId: string, options?: CallOptions): Promise<StatusResult>;
  /** The outcome of a request; `includeCost` (default true) asks for the charge in USD. */
  result(requestId: string, options?: CallOptions & { includeCost?: boolean }): Promise<ResultResult>;
  cancel(requestId: string, options?: CallOptions): Promise<CancelResult>;
}

function normalizeBaseUrl(baseUrl: string): string {
  if (!URL.canParse(baseUrl)) throw new TypeError(`createRunComfyClient: baseUrl is not a URL: ${JSON.stringify(baseUrl)}`);
  const url = new URL(baseUrl);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new TypeError("createRunComfyClient: baseUrl must be http(s)");
  if (url.search || url.hash || url.username || url.password) {
    throw new TypeError("createRunComfyClient: baseUrl must not carry a query, fragment or credentials");
  }
  return url.href.replace(/\/+$/, "");
}

// Model ids are path segments such as `acestep-ai/ace-step-1.5/text-to-audio`; nothing else may reach the path.
const MODEL_PATH = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

function requestPath(requestId: string, action: "status" | "result" | "cancel"): string {
  if (typeof requestId !== "string" || requestId.length === 0) throw new TypeError(`RunComfy ${action}: requestId is required`);
  return `/requests/${encodeURIComponent(requestId)}/${action}`;
}

/** Create a client for the RunComfy Model API (submit / status / result / cancel). */
export function createRunComfyClient(options: RunComfyClientOptions): RunComfyClient {
  if (!options.token) throw new TypeError("createRunComfyClient: token is required");
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs <= 0) throw new TypeError("createRunComfyClient: requestTimeoutMs must be positive");
  const ctx: CallContext = {
    baseUrl: normalizeBaseUrl(options.baseUrl),
    token: options.token,
    requestTimeoutMs,
    beforeCall: options.beforeCall,
    afterCall: options.afterCall,
    now: options.now ?? Date.now,
  };

  return {
    baseUrl: ctx.baseUrl,

    async submit(model, input, { signal, onSend } = {}) {
      if (typeof model !== "string" || !MODEL_PATH.test(model)) {
        throw new TypeError(`RunComfy submit: invalid model id ${JSON.stringify(model)}`);
      }
      // Serialise first, so a bad input costs no rate-limit slot.
      const body = JSON.stringify(input);
      // The model id goes into the path verbatim, slashes and all.
      return performCall(ctx, { call: { kind: "submit", model }, method: "POST", path: `/models/${model}`, body, signal, onSend, parse: parseSubmitResponse });
    },

    async status(requestId, { signal } = {}) {
      const path = requestPath(requestId, "status");
      return performCall(ctx, { call: { kind: "status", requestId }, method: "GET", path, signal, parse: (b) => parseStatusResponse(b, requestId) });
    },

    async result(requestId, { signal, includeCost = true } = {}) {
      const path = requestPath(requestId, "result") + (includeCost ? "?include_cost=true" : "");
      return performCall(ctx, { call: { kind: "result", requestId }, method: "GET", path, signal, parse: (b) => parseResultResponse(b, requestId) });
    },

    async cancel(requestId, { signal } = {}) {
      const path = requestPath(requestId, "cancel");
      return performCall(ctx, { call: { kind: "cancel", requestId }, method: "POST", path, signal, parse: parseCancelResponse });
    },
  };
}
