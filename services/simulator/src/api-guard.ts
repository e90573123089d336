import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

import type { CallRecord } from "./call-log.ts";
import { ERROR_CODES, ProviderError, tokenRejected } from "./provider-error.ts";
import { tokenKey, type SimulatorState } from "./simulator-state.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The call-log entry of a /v1 call. */
    simCall: CallRecord | null;
    /** sha256 of the caller's bearer token when tokens are checked. */
    simOwner: string | null;
    /** An injected timeout: answer 504 after holding the response. */
    simHold: boolean;
  }
}

export interface GuardOptions {
  state: SimulatorState;
  /** The one accepted token; undefined = any non-empty bearer token. */
  token: string | undefined;
}

function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S.*)$/i.exec(header ?? "");
  return match ? match[1]!.trim() : null;
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A 429 in the provider's shape, with Retry-After when configured (whole seconds, rounded up). */
export function rateLimited(retryAfterSeconds: number | null): ProviderError {
  const headers: Record<string, string> = retryAfterSeconds === null ? {} : { "retry-after": String(Math.ceil(retryAfterSeconds)) };
  return new ProviderError(429, ERROR_CODES.rateLimited, "rate limited", { headers });
}

/** Held (simulated-timeout) responses, released early when the server closes. */
export interface HoldRegistry {
  hold(reply: FastifyReply, ms: number): Promise<"elapsed" | "disconnected">;
  releaseAll(): void;
}

export function createHoldRegistry(): HoldRegistry {
  const releases = new Set<() => void>();
  return {
    hold(reply, ms) {
      return new Promise((resolve) => {
        const done = (outcome: "elapsed" | "disconnected"): void => {
          clearTimeout(timer);
          reply.raw.off("close", onClose);
          releases.delete(release);
          resolve(outcome);
        };
        const onClose = (): void => done("disconnected");
        const release = (): void => done("elapsed");
        const timer = setTimeout(release, ms);
        reply.raw.on("close", onClose);
        releases.add(release);
      });
    },
    releaseAll() {
      for (const release of [...releases]) release();
    },
  };
}

/**
 * Everything that happens to a /v1 call before its handler, in the order a gateway would do it:
 * log the call (peak rate counts every call), check the token, apply the rate limit, inject faults.
 */
export function registerApiGuard(app: FastifyInstance, options: GuardOptions, holds: HoldRegistry): void {
  const { state, token } = options;

  app.addHook("onRequest", async (request: FastifyRequest) => {
    const at = state.now();
    request.simCall = state.calls.recordCall(at, request.method, request.url.split("?")[0]!);
    const config = state.config();
    if (config.reject_tokens) throw tokenRejected();
    if (config.require_token) {
      const given = bearerToken(request.headers.authorization);
      if (given === null || given === "" || (token !== undefined && !sameToken(given, token))) throw tokenRejected();
      request.simOwner = tokenKey(given);
    }
    if (config.rate_limit_rps && !state.calls.admit(at, config.rate_limit_rps)) throw rateLimited(config.retry_after_seconds);
    const fault = state.faults.forCall(config.fail);
    if (fault?.kind === "429") throw rateLimited(config.retry_after_seconds);
    if (fault?.kind === "5xx") throw new ProviderError(fault.statusCode, ERROR_CODES.upstream, "simulated upstream error");
    if (fault?.kind === "timeout") {
      request.simHold = true;
      state.calls.counters.served_timeouts++;
    }
  });

  // The call was processed (a held submit DID create its request); only the answer is lost.
  app.addHook("onSend", async (request, reply, payload) => {
    if (!request.simHold) return payload;
    const outcome = await holds.hold(reply, state.config().timeout_hold_ms);
    if (outcome === "disconnected" && request.simCall) request.simCall.status = 499;
    reply.code(504).header("content-type", "application/json; charset=utf-8");
    return JSON.stringify({ error_code: ERROR_CODES.timeout, error_message: "simulated gateway timeout" });
  });

  app.addHook("onResponse", async (request, reply) => {
    const call = request.simCall;
    if (call && call.status === 0) call.status = reply.statusCode;
    const { counters } = state.calls;
    if (reply.statusCode === 401) counters.served_401++;
    else if (reply.statusCode === 429) counters.served_429++;
    else if (reply.statusCode >= 500 && reply.statusCode !== 504) counters.served_5xx++;
  });
}
