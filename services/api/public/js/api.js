// The dashboard's only way to the API: same origin, bearer key, the spec's error envelope.

export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    /** The parsed error body (batch uploads put their row `errors` beside `error`). */
    this.body = body;
    this.details = body?.error?.details ?? [];
  }
}

/** The route does not exist on this server (yet): hide the panel instead of failing. */
export const isMissingRoute = (err) => err instanceof ApiError && err.status === 404 && err.code === "route_not_found";

export const isAbort = (err) => err?.name === "AbortError";

/**
 * A client bound to one key. `onUnauthorized(message)` runs on any 401 (the key was revoked or
 * mistyped): the app drops the key and shows the login form again.
 */
export function createApi({ key, onUnauthorized }) {
  async function send(method, path, { body, contentType, headers = {}, signal, accept = "application/json" } = {}) {
    const init = { method, signal, headers: { authorization: `Bearer ${key}`, accept, ...headers } };
    if (body !== undefined) {
      const raw = typeof body === "string" || body instanceof Blob;
      init.body = raw ? body : JSON.stringify(body);
      init.headers["content-type"] = contentType ?? (raw ? "text/plain" : "application/json");
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (err) {
      if (isAbort(err)) throw err;
      throw new ApiError(0, "network", "The API cannot be reached. Is it running?");
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => "");
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    const code = parsed?.error?.code ?? `http_${res.status}`;
    const message = parsed?.error?.message ?? `${method} ${path} answered ${res.status}`;
    const error = new ApiError(res.status, code, message, parsed);
    if (res.status === 401) onUnauthorized(message);
    throw error;
  }

  async function json(method, path, options) {
    const res = await send(method, path, options);
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  return {
    send,
    get: (path, options) => json("GET", path, options),
    post: (path, body, options = {}) => json("POST", path, { ...options, body }),
    /** The response body as a Blob (audio, CSV results). */
    blob: async (path, options) => (await send("GET", path, options)).blob(),
  };
}

/** A random id for Idempotency-Key (works outside secure contexts, unlike randomUUID). */
export function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
