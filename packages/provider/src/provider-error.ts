import type { ExitClass, JobErrorCode } from "@acebatch/contracts";

import type { ProviderCallKind } from "./provider-call.ts";

export interface ProviderErrorInit {
  message: string;
  exitClass: ExitClass;
  code: JobErrorCode;
  retryable: boolean;
  call: ProviderCallKind;
  httpStatus?: number | null;
  providerCode?: number | null;
  retryAfterMs?: number | null;
  ambiguous?: boolean;
  requestId?: string | null;
  cause?: unknown;
}

/**
 * A failed provider call, already classified (see `classifyProviderFailure`). The message carries
 * the provider's own error text but never the token.
 */
export class ProviderError extends Error {
  /** The `runcomfy` CLI exit code this failure maps to: 65, 69, 75, 77, or 1 (remote failure). */
  readonly exitClass: ExitClass;
  readonly code: JobErrorCode;
  readonly retryable: boolean;
  readonly httpStatus: number | null;
  /** The body's `error_code`. */
  readonly providerCode: number | null;
  /** How long the provider asked us to wait (`Retry-After` on 429/503), milliseconds. */
  readonly retryAfterMs: number | null;
  /**
   * True only for a submit whose outcome is unknown (timeout, network error, 5xx or an unreadable
   * 2xx after the body was sent): a paid request may exist, so do not blindly submit again.
   */
  readonly ambiguous: boolean;
  readonly call: ProviderCallKind;
  readonly requestId: string | null;

  constructor(init: ProviderErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "ProviderError";
    this.exitClass = init.exitClass;
    this.code = init.code;
    this.retryable = init.retryable;
    this.call = init.call;
    this.httpStatus = init.httpStatus ?? null;
    this.providerCode = init.providerCode ?? null;
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.ambiguous = init.ambiguous ?? false;
    this.requestId = init.requestId ?? null;
  }
}

/**
 * The error for a provider request that ended `failed` or `cancelled` on the provider's side
 * (exit class 1). Not retryable: a new attempt means a new paid submission, which the caller
 * decides on.
 */
export function remoteRequestError(
  requestId: string,
  status: "failed" | "cancelled",
  providerMessage: string | null,
  call: ProviderCallKind = "result",
): ProviderError {
  const detail = providerMessage ? `: ${providerMessage}` : "";
  return new ProviderError({
    message: `RunComfy request ${requestId} ended ${status}${detail}`,
    exitClass: 1,
    code: status === "failed" ? "provider_request_failed" : "provider_request_cancelled",
    retryable: false,
    call,
    requestId,
  });
}
