import type { ExitClass, JobErrorCode } from "@acebatch/contracts";

/** How a provider failure is handled, decided once here (STYLE rule 8). */
export interface FailureClass {
  exitClass: ExitClass;
  code: JobErrorCode;
  retryable: boolean;
}

/** What went wrong with a call, as far as the client saw it. */
export interface FailureFacts {
  /** HTTP status of the answer, or null when there was none. */
  httpStatus: number | null;
  /** The body's `error_code`, if any. */
  providerCode: number | null;
  /** A failure below HTTP, or an answer we could not understand. */
  transport?: "timeout" | "network" | "invalid_response" | "aborted";
}

const AUTH_FAILED: FailureClass = { exitClass: 77, code: "provider_auth_failed", retryable: false };
// One request is not ours (403001: it belongs to another account, e.g. since the token changed): the
// token itself is fine, so this fails that job rather than pausing the queue.
const REQUEST_FORBIDDEN: FailureClass = { exitClass: 77, code: "provider_request_forbidden", retryable: false };
const INSUFFICIENT_BALANCE: FailureClass = { exitClass: 65, code: "provider_insufficient_balance", retryable: false };
const REQUEST_EXPIRED: FailureClass = { exitClass: 65, code: "provider_request_expired", retryable: false };
const REJECTED_INPUT: FailureClass = { exitClass: 65, code: "provider_rejected_input", retryable: false };
const RATE_LIMITED: FailureClass = { exitClass: 75, code: "provider_rate_limited", retryable: true };
const TIMEOUT: FailureClass = { exitClass: 75, code: "provider_timeout", retryable: true };
const UNAVAILABLE: FailureClass = { exitClass: 69, code: "provider_unavailable", retryable: true };
const INVALID_RESPONSE: FailureClass = { exitClass: 69, code: "provider_invalid_response", retryable: true };
// Our own AbortSignal fired (shutdown, job cancelled): nothing is wrong with the job or the provider.
const ABORTED: FailureClass = { exitClass: 75, code: "cancelled", retryable: true };

/** RunComfy's documented `error_code`s; they win over the HTTP status because they are more specific. */
const BY_PROVIDER_CODE: ReadonlyMap<number, FailureClass> = new Map([
  [400001, REJECTED_INPUT], // unknown model id
  [400002, INSUFFICIENT_BALANCE],
  [400004, AUTH_FAILED], // token missing, expired or revoked; account inactive
  [403001, REQUEST_FORBIDDEN], // request belongs to another user
  [404001, REQUEST_EXPIRED], // unknown, deleted or expired request id
]);

function byHttpStatus(status: number): FailureClass | null {
  if (status === 401 || status === 403) return AUTH_FAILED;
  if (status === 402) return INSUFFICIENT_BALANCE;
  if (status === 408) return TIMEOUT;
  if (status === 429) return RATE_LIMITED;
  if (status >= 400 && status < 500) return REJECTED_INPUT;
  if (status >= 500 && status < 600) return UNAVAILABLE;
  return null;
}

/**
 * Classify a provider failure in the `runcomfy` CLI's exit-code terms:
 * 401/403, error_code 400004 → 77 `provider_auth_failed` (the token: the queue pauses);
 * error_code 403001 → 77 `provider_request_forbidden` (one request belongs to another account);
 * 402, error_code 400002 → 65 `provider_insufficient_balance`;
 * error_code 404001 → 65 `provider_request_expired`;
 * 408 and timeouts → 75 `provider_timeout`; 429 → 75 `provider_rate_limited` (retryable);
 * other 4xx → 65 `provider_rejected_input`;
 * 5xx, network errors and anything else unexpected (3xx) → 69 `provider_unavailable` (retryable);
 * an answer we cannot parse → 69 `provider_invalid_response` (retryable);
 * our own abort → 75 `cancelled` (retryable).
 * A 2xx carrying an unknown `error_code` is classed by the code's leading HTTP-like digits
 * (`400123` → as HTTP 400), else as an invalid response.
 */
export function classifyProviderFailure(facts: FailureFacts): FailureClass {
  switch (facts.transport) {
    case "timeout":
      return TIMEOUT;
    case "network":
      return UNAVAILABLE;
    case "aborted":
      return ABORTED;
    case "invalid_response":
      return INVALID_RESPONSE;
  }
  const { httpStatus, providerCode } = facts;
  if (providerCode !== null) {
    const known = BY_PROVIDER_CODE.get(providerCode);
    if (known) return known;
  }
  if (httpStatus !== null && (httpStatus < 200 || httpStatus >= 300)) {
    return byHttpStatus(httpStatus) ?? UNAVAILABLE;
  }
  if (providerCode !== null) {
    const impliedStatus = Math.floor(providerCode / 1000);
    if (impliedStatus >= 400 && impliedStatus < 600) return byHttpStatus(impliedStatus) ?? INVALID_RESPONSE;
  }
  return INVALID_RESPONSE;
}
