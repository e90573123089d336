import { classifyProviderFailure, type FailureFacts } from "./classify-failure.ts";
import type { ProviderCall } from "./provider-call.ts";
import { ProviderError } from "./provider-error.ts";
import { hasErrorCode, providerErrorCode, providerErrorMessage, sanitizeMessage } from "./provider-message.ts";
import { parseJsonOrUndefined, readBodyText, RequestNotSentError, ResponseTooLargeError, sendJsonRequest, UnsupportedEncodingError, type JsonResponse } from "./json-transport.ts";
import { ResponseShapeError } from "./response-shape-error.ts";
import { parseRetryAfter } from "./retry-after.ts";

/** What the `afterCall` hook learns about one HTTP call. */
export interface CallOutcome {
  httpStatus: number | null;
  /** Wall time of the HTTP exchange (not of `beforeCall`), milliseconds. */
  durationMs: number;
  error?: ProviderError;
}

export interface CallContext {
  baseUrl: string;
  token: string;
  requestTimeoutMs: number;
  beforeCall?: (call: ProviderCall, options: { signal?: AbortSignal }) => Promise<void>;
  afterCall?: (call: ProviderCall, outcome: CallOutcome) => void;
  now: () => number;
}

export interface CallSpec<T> {
  call: ProviderCall;
  method: "GET" | "POST";
  /** Appended to the base URL; already escaped. */
  path: string;
  /** Serialised JSON body. */
  body?: string;
  signal?: AbortSignal;
  /** Awaited after `beforeCall`, right before the request is sent. */
  onSend?: () => Promise<void>;
  /** Turn a 2xx JSON body into the result; throw `ResponseShapeError` when it does not fit. */
  parse: (body: unknown) => T;
}

// Connection-phase failures: the request body cannot have reached the provider.
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
]);

function errorCodeOf(error: unknown): string | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

function describe(call: ProviderCall): string {
  const subject = call.kind === "submit" ? (call.model ?? "") : (call.requestId ?? "");
  return `RunComfy ${call.kind}${subject ? ` ${subject}` : ""}`;
}

const AMBIGUOUS_NOTE = " (a paid request may have been created: resume it if a request id turns up, do not blindly resubmit)";

/**
 * Run one provider call: `beforeCall`, the request with the bearer token and a timeout, bounded body read,
 * error classification, `afterCall`. Returns the parsed result or throws a `ProviderError`.
 */
export async function performCall<T>(ctx: CallContext, spec: CallSpec<T>): Promise<T> {
  const { call } = spec;
  const isSubmit = call.kind === "submit";

  function fail(facts: FailureFacts, detail: string, extra: { ambiguous?: boolean; retryAfterMs?: number | null; cause?: unknown } = {}): ProviderError {
    const cls = classifyProviderFailure(facts);
    const ambiguous = isSubmit && (extra.ambiguous ?? false);
    return new ProviderError({
      message: `${describe(call)} failed: ${sanitizeMessage(detail, ctx.token)}${ambiguous ? AMBIGUOUS_NOTE : ""}`,
      ...cls,
      call: call.kind,
      httpStatus: facts.httpStatus,
      providerCode: facts.providerCode,
      retryAfterMs: extra.retryAfterMs ?? null,
      ambiguous,
      requestId: call.requestId ?? null,
      cause: extra.cause,
    });
  }

  const abortedBeforeSend = (): ProviderError =>
    fail({ httpStatus: null, providerCode: null, transport: "aborted" }, "aborted before the call was made", { cause: spec.signal?.reason });

  if (spec.signal?.aborted) throw abortedBeforeSend();
  await ctx.beforeCall?.(call, { signal: spec.signal });
  if (spec.signal?.aborted) throw abortedBeforeSend();
  await spec.onSend?.();

  // One controller for the caller's signal and the timeout (AbortSignal.any/timeout per call cost
  // more than the rest of a small call's bookkeeping); both are unhooked when the call ends.
  const controller = new AbortController();
  const signal = controller.signal;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`the call timed out after ${ctx.requestTimeoutMs} ms`, "TimeoutError"));
  }, ctx.requestTimeoutMs);
  const onCallerAbort = () => controller.abort(spec.signal!.reason);
  spec.signal?.addEventListener("abort", onCallerAbort, { once: true });
  if (spec.signal?.aborted) onCallerAbort();
  const unhook = () => {
    clearTimeout(timer);
    spec.signal?.removeEventListener("abort", onCallerAbort);
  };

  function transportFailure(cause: unknown, maybeSent: boolean): ProviderError {
    const code = errorCodeOf(cause);
    const reachedProvider = maybeSent && !(code !== null && NOT_SENT_CODES.has(code));
    if (signal.aborted && timedOut) {
      return fail({ httpStatus: null, providerCode: null, transport: "timeout" }, `timed out after ${ctx.requestTimeoutMs} ms`, { ambiguous: reachedProvider, cause });
    }
    if (signal.aborted) {
      return fail({ httpStatus: null, providerCode: null, transport: "aborted" }, "aborted", { ambiguous: reachedProvider, cause });
    }
    const what = code ?? (cause instanceof Error ? cause.message : String(cause));
    return fail({ httpStatus: null, providerCode: null, transport: "network" }, `network error (${what})`, { ambiguous: reachedProvider, cause });
  }

  const started = performance.now();
  let httpStatus: number | null = null;
  let error: ProviderError | undefined;
  try {
    const headers: Record<string, string> = { authorization: `Bearer ${ctx.token}`, accept: "application/json" };
    if (spec.body !== undefined) headers["content-type"] = "application/json";
    let response: JsonResponse;
    try {
      // Never follows redirects: the bearer token must not follow one to another host.
      response = await sendJsonRequest({ url: `${ctx.baseUrl}${spec.path}`, method: spec.method, headers, body: spec.body, signal });
    } catch (cause) {
      throw transportFailure(cause, !(cause instanceof RequestNotSentError));
    }
    httpStatus = response.status;
    const ok = response.status >= 200 && response.status < 300;
    let text: string;
    try {
      text = await readBodyText(response, signal);
    } catch (cause) {
      if (cause instanceof ResponseTooLargeError || cause instanceof UnsupportedEncodingError) {
        throw fail({ httpStatus, providerCode: null, transport: "invalid_response" }, `HTTP ${httpStatus} with a ${cause.message}`, { ambiguous: ok, cause });
      }
      throw transportFailure(cause, true);
    }
    const body = parseJsonOrUndefined(text);

    if (!ok || hasErrorCode(body)) {
      const providerCode = providerErrorCode(body);
      const message = providerErrorMessage(body) ?? (response.status >= 300 && response.status < 400 ? redirectNote(response) : text.trim().slice(0, 200) || response.statusText || "no error message");
      const retryAfterMs = httpStatus === 429 || httpStatus === 503 ? parseRetryAfter(response.header("retry-after"), ctx.now()) : null;
      const codeNote = providerCode !== null ? ` error_code ${providerCode}` : hasErrorCode(body) ? " with an error_code" : "";
      throw fail({ httpStatus, providerCode }, `HTTP ${httpStatus}${codeNote}: ${message}`, { ambiguous: httpStatus >= 500, retryAfterMs });
    }
    if (body === undefined) {
      throw fail({ httpStatus, providerCode: null, transport: "invalid_response" }, `HTTP ${httpStatus} with a body that is not JSON`, { ambiguous: true });
    }
    try {
      return spec.parse(body);
    } catch (cause) {
      if (!(cause instanceof ResponseShapeError)) throw cause;
      throw fail({ httpStatus, providerCode: null, transport: "invalid_response" }, `HTTP ${httpStatus} with an unexpected body: ${cause.message}`, { ambiguous: true, cause });
    }
  } catch (caught) {
    if (caught instanceof ProviderError) error = caught;
    throw caught;
  } finally {
    unhook();
    notifyAfterCall(ctx, call, { httpStatus, durationMs: performance.now() - started, ...(error ? { error } : {}) });
  }
}

function redirectNote(response: JsonResponse): string {
  const location = response.header("location");
  let where = "elsewhere";
  if (location) where = URL.canParse(location, "http://x") ? new URL(location, "http://x").host || "a relative path" : "an unparseable location";
  return `redirect to ${where} not followed (the token stays on the API host): point the base URL at the final address`;
}

function notifyAfterCall(ctx: CallContext, call: ProviderCall, outcome: CallOutcome): void {
  if (!ctx.afterCall) return;
  try {
    ctx.afterCall(call, outcome);
  } catch {
    // A metrics hook must never turn a successful submit into a lost request id.
  }
}
