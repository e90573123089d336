import type { ModelId } from "@acebatch/contracts";
import { ProviderError, type RunComfyClient } from "@acebatch/provider";
import type { Logger } from "pino";
import { sleep } from "../poll-schedule.ts";
import type { AuthGuard } from "./auth-guard.ts";
import { HandBack } from "./hand-back.ts";
import type { ProviderGate } from "./provider-gate.ts";

export interface ResilienceSettings {
  /** Retries of one call on 5xx / network errors (class 69) before the attempt fails. */
  callRetries: number;
  /** Back-off base for those retries (ms), exponential with full jitter, capped at 30 s. */
  retryBaseMs: number;
  /** Resubmit after a submit whose outcome is unknown (a paid request may exist). */
  resubmitAmbiguous: boolean;
}

export interface CallContext {
  signal?: AbortSignal;
  logger: Logger;
  /** Called right before each submit request leaves (after the gate let it through). */
  onSend?: () => Promise<void>;
  /** Called before an ambiguous submit is sent again, so the possible charge is recorded. */
  onAmbiguousSubmit?: (err: ProviderError) => Promise<void>;
  /** Called when a submit certainly created no request (throttled, never sent) and will be sent again. */
  onSubmitNotCreated?: () => Promise<void>;
}

/**
 * The provider client as the processor uses it: every call passes the shared gate (through the
 * client's beforeCall hook), throttles (429/408/timeouts, class 75) hold every worker and are
 * retried without using an attempt, 5xx/network errors (69) are retried with back-off, a refused
 * token (77 `provider_auth_failed`) pauses the queue and hands the job back. Input errors (65),
 * remote failures (1) and a request that belongs to another account (77
 * `provider_request_forbidden`: one job's problem, not the token's) are thrown as they are.
 */
export function createResilientProvider(deps: { client: RunComfyClient; gate: ProviderGate; auth: AuthGuard; settings: ResilienceSettings }) {
  const { client, gate, auth, settings } = deps;

  async function call<T>(kind: "submit" | "status" | "result" | "cancel", fn: () => Promise<T>, ctx: CallContext): Promise<T> {
    let serverErrors = 0;
    for (;;) {
      try {
        const value = await fn();
        void gate.succeeded().catch(() => undefined);
        return value;
      } catch (err) {
        if (!(err instanceof ProviderError) || ctx.signal?.aborted) throw err;
        if (err.code === "provider_auth_failed") {
          await auth.refused(err.message);
          throw new HandBack(`provider refused the token: ${err.message}`, 1_000);
        }
        const ambiguousSubmit = kind === "submit" && err.ambiguous;
        if (err.exitClass === 75 && !ambiguousSubmit) {
          // Nothing exists at the provider: a crash while waiting to send again is no unknown outcome.
          if (kind === "submit") await ctx.onSubmitNotCreated?.();
          const hold = await gate.throttled(err.retryAfterMs);
          ctx.logger.warn({ call: kind, code: err.code, holdMs: hold.holdMs, streak: hold.streak, rate: hold.rate }, "provider throttled; every worker holds");
          continue;
        }
        const retryable = ambiguousSubmit ? settings.resubmitAmbiguous : err.exitClass === 69 && err.retryable;
        if (!retryable || serverErrors >= settings.callRetries) throw err;
        if (ambiguousSubmit) await ctx.onAmbiguousSubmit?.(err);
        else if (kind === "submit") await ctx.onSubmitNotCreated?.();
        serverErrors++;
        if (err.exitClass === 75) await gate.throttled(err.retryAfterMs);
        const delay = Math.floor(Math.random() * Math.min(30_000, settings.retryBaseMs * 2 ** (serverErrors - 1)));
        ctx.logger.warn({ call: kind, code: err.code, retry: serverErrors, delayMs: delay }, "provider call failed; retrying");
        await sleep(delay, ctx.signal);
      }
    }
  }

  return {
    submit: (model: ModelId, input: Record<string, unknown>, ctx: CallContext) => call("submit", () => client.submit(model, input, { onSend: ctx.onSend }), ctx),
    status: (requestId: string, ctx: CallContext) => call("status", () => client.status(requestId, { signal: ctx.signal }), ctx),
    result: (requestId: string, ctx: CallContext) => call("result", () => client.result(requestId, { signal: ctx.signal }), ctx),
    cancel: (requestId: string, ctx: CallContext) => call("cancel", () => client.cancel(requestId), ctx),
  };
}

export type ResilientProvider = ReturnType<typeof createResilientProvider>;
