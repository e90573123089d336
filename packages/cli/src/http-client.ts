import { CliError, EXIT, exitCodeForStatus } from "./exit-codes.ts";

export type QueryValue = string | number | boolean | undefined | null;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** A JSON body (sets Content-Type: application/json). */
  json?: unknown;
  /** A raw body with its content type (CSV, NDJSON uploads). */
  body?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
  /** Overrides the client's per-request timeout, in milliseconds (long downloads). */
  timeoutMs?: number;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

export interface ApiClientOptions {
  baseUrl: string;
  apiKey: string | undefined;
  /** Per-request timeout in milliseconds (covers connect, headers and body). */
  timeoutMs: number;
  /** Where `--verbose` request lines go; never receives the key. */
  log?: (line: string) => void;
  /** Aborts every request (Ctrl-C). */
  signal?: AbortSignal;
}

export interface ApiClient {
  readonly baseUrl: string;
  /** A JSON request; non-2xx answers and network failures throw a CliError with the exit class. */
  json<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  /** A request whose 2xx body is returned as text (CSV/JSONL results). */
  text(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<string>>;
  /** A GET whose 2xx Response is handed back unread, for streaming downloads. */
  stream(path: string, options?: RequestOptions): Promise<Response>;
}

/** Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); undefined when absent or bad. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed));
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** Build the fetch wrapper every command uses: Bearer auth, a timeout on every call, failures mapped to exit classes. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const { baseUrl, apiKey, timeoutMs, log, signal } = options;

  async function send(method: string, path: string, opts: RequestOptions, accept: string): Promise<Response> {
    if (apiKey === undefined) {
      throw new CliError(EXIT.noPerm, "no API key: set ACEBATCH_API_KEY or pass --api-key", { code: "no_api_key" });
    }
    const url = buildUrl(baseUrl, path, opts.query);
    const headers: Record<string, string> = { accept, authorization: `Bearer ${apiKey}`, ...opts.headers };
    let body: string | Uint8Array | undefined;
    if (opts.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.json);
    } else if (opts.body !== undefined) {
      headers["content-type"] = opts.contentType ?? "application/octet-stream";
      body = opts.body;
    }
    const limitMs = opts.timeoutMs ?? timeoutMs;
    const timeout = AbortSignal.timeout(limitMs);
    const started = Date.now();
    log?.(`> ${method} ${url}`);
    try {
      const res = await fetch(url, {
        method,
        headers,
        body,
        // Never follow a redirect: it could carry the key to another host.
        redirect: "manual",
        signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
      });
      log?.(`< ${res.status} ${method} ${url} (${Date.now() - started} ms)`);
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        throw new CliError(EXIT.failure, `the API answered ${method} ${path} with a redirect (HTTP ${res.status}) to ${res.headers.get("location") ?? "nowhere"}; check ACEBATCH_URL`, {
          code: "unexpected_redirect",
          status: res.status,
        });
      }
      if (!res.ok) throw await apiError(res, method, path);
      return res;
    } catch (err) {
      throw mapFetchError(err, { method, url, limitMs, userSignal: signal });
    }
  }

  /** Read the body under the same deadline as the request; a stall while reading is a timeout too. */
  async function readText(res: Response, method: string, url: string, limitMs: number): Promise<string> {
    try {
      return await res.text();
    } catch (err) {
      throw mapFetchError(err, { method, url, limitMs, userSignal: signal });
    }
  }

  return {
    baseUrl,
    async json<T>(method: string, path: string, opts: RequestOptions = {}) {
      const res = await send(method, path, opts, "application/json");
      const text = await readText(res, method, path, opts.timeoutMs ?? timeoutMs);
      if (text.trim() === "") return { status: res.status, headers: res.headers, data: null as T };
      try {
        return { status: res.status, headers: res.headers, data: JSON.parse(text) as T };
      } catch {
        throw new CliError(EXIT.failure, `the API answered ${method} ${path} with something that is not JSON (HTTP ${res.status}); is ACEBATCH_URL an acebatch API?`, {
          code: "invalid_response",
          status: res.status,
        });
      }
    },
    async text(method: string, path: string, opts: RequestOptions = {}) {
      const res = await send(method, path, opts, "text/csv, application/x-ndjson, application/json;q=0.5, */*;q=0.1");
      return { status: res.status, headers: res.headers, data: await readText(res, method, path, opts.timeoutMs ?? timeoutMs) };
    },
    stream(path: string, opts: RequestOptions = {}) {
      return send("GET", path, opts, "audio/*, */*;q=0.1");
    },
  };
}

export function buildUrl(baseUrl: string, path: string, query?: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null) params.set(key, String(value));
  }
  const qs = params.toString();
  return `${baseUrl}${path}${qs ? `?${qs}` : ""}`;
}

interface ErrorBodyShape {
  error?: { code?: unknown; message?: unknown; details?: unknown; errors?: unknown };
  errors?: unknown;
}

/** Turn a non-2xx answer into a CliError carrying the API's `{"error": {...}}` body and its exit class. */
async function apiError(res: Response, method: string, path: string): Promise<CliError> {
  let text = "";
  try {
    text = await res.text();
  } catch {
    // The status alone still classifies the failure.
  }
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const shaped = (body && typeof body === "object" ? body : {}) as ErrorBodyShape;
  const apiMessage = typeof shaped.error?.message === "string" ? shaped.error.message : text.trim().slice(0, 300);
  const code = typeof shaped.error?.code === "string" ? shaped.error.code : `http_${res.status}`;
  const details = Array.isArray(shaped.error?.details) ? (shaped.error.details as { path: string; message: string }[]) : undefined;
  const exitCode = exitCodeForStatus(res.status);
  const hints: string[] = [];
  // Batch uploads list bad rows as `errors: [{row, column, message}]`, at the top level or inside
  // `error`; the API also names them in `details` (`row 7 / duration`), which are printed already.
  const rowErrors = Array.isArray(shaped.errors) ? shaped.errors : Array.isArray(shaped.error?.errors) ? shaped.error.errors : [];
  const printed = new Set((details ?? []).map((d) => `${d.path}: ${d.message}`));
  for (const row of rowErrors as { row?: unknown; column?: unknown; message?: unknown }[]) {
    const line = `row ${String(row.row ?? "?")}${row.column ? ` / ${String(row.column)}` : ""}: ${String(row.message ?? "invalid")}`;
    if (!printed.has(line)) hints.push(line);
  }
  let message = `${method} ${path} failed with HTTP ${res.status}${apiMessage ? `: ${apiMessage}` : ""}`;
  const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
  if (exitCode === EXIT.tempFail) {
    message += retryAfter === undefined ? "; retry later" : `; retry after ${retryAfter} s (Retry-After)`;
  } else if (code === "route_not_found") {
    hints.push("this API does not serve that endpoint: is ACEBATCH_URL an up-to-date acebatch API?");
  } else if (exitCode === EXIT.noPerm) {
    hints.push(res.status === 401 ? "check ACEBATCH_API_KEY (or --api-key)" : "this key lacks the scope this command needs");
  }
  return new CliError(exitCode, message, { code, details, status: res.status, body: body ?? undefined, hints, retryAfterSeconds: retryAfter });
}

interface FetchContext {
  method: string;
  url: string;
  limitMs: number;
  userSignal: AbortSignal | undefined;
}

const UNREACHABLE_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused (is the API running? `pnpm start`)",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed",
  UND_ERR_SOCKET: "connection closed",
};
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** Classify a fetch failure: timeouts are 75, an unreachable API is 69; CliErrors pass through. */
export function mapFetchError(err: unknown, ctx: FetchContext): CliError {
  if (err instanceof CliError) return err;
  const e = err as { name?: string; message?: string; cause?: unknown };
  const target = ctx.url.split("?")[0];
  if (e?.name === "TimeoutError") {
    return new CliError(EXIT.tempFail, `no answer from ${target} within ${formatSeconds(ctx.limitMs)} (timeout); retry later or raise --timeout`, {
      code: "timeout",
    });
  }
  if (e?.name === "AbortError" && ctx.userSignal?.aborted) {
    return new CliError(EXIT.failure, "interrupted", { code: "interrupted" });
  }
  const code = causeCode(e?.cause) ?? causeCode(err);
  if (code && TIMEOUT_CODES.has(code)) {
    return new CliError(EXIT.tempFail, `${ctx.method} ${target} timed out (${code}); retry later`, { code: "timeout" });
  }
  const causeMessage = e?.cause instanceof Error ? e.cause.message : undefined;
  const reason = (code && UNREACHABLE_CODES[code]) ?? (code ? `network error ${code}` : (causeMessage ?? e?.message ?? String(err)));
  return new CliError(EXIT.unavailable, `cannot reach the acebatch API at ${target}: ${reason}`, { code: "api_unreachable" });
}

function causeCode(cause: unknown): string | undefined {
  if (!cause || typeof cause !== "object") return undefined;
  const c = cause as { code?: unknown; errors?: unknown[]; cause?: unknown };
  if (typeof c.code === "string") return c.code;
  if (Array.isArray(c.errors) && c.errors.length > 0) return causeCode(c.errors[0]);
  return c.cause ? causeCode(c.cause) : undefined;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
