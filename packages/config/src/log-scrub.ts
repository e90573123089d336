import type pino from "pino";

/** Query parameters that carry credentials (`?key=` for browser logins, signed-link signatures). */
const SECRET_QUERY = /([?&](?:key|signature|token|access_token|api_key)=)[^&#\s"']*/gi;
const SECRET_QUERY_TEST = /[?&](?:key|signature|token|access_token|api_key)=/i;
/** A stored API key (`ak_` + base64url), wherever it shows up. */
const API_KEY = /(?<![A-Za-z0-9_-])ak_[A-Za-z0-9_-]{16,}/g;
const CENSOR = "[redacted]";

/** A URL with the values of credential query parameters replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  return SECRET_QUERY_TEST.test(url) ? url.replace(SECRET_QUERY, `$1${CENSOR}`) : url;
}

/** Text with known secret values, `ak_…` API keys and credential query values masked. */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(CENSOR);
  if (out.includes("ak_")) out = out.replace(API_KEY, `ak_${CENSOR}`);
  return redactUrl(out);
}

interface RequestLike {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  headers?: Record<string, unknown>;
  socket?: { remotePort?: number };
}

/** The `req` serializer: Fastify's fields, with credentials stripped from the URL and no headers at all. */
export function serializeRequest(req: RequestLike) {
  if (!req || typeof req !== "object") return req;
  return {
    method: req.method,
    url: typeof req.url === "string" ? redactUrl(req.url) : req.url,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * A destination that masks secrets in every finished line: the last line of defence behind the
 * field redaction (log-redact.ts), for secrets inside messages, error texts and URLs.
 */
export function scrubbingDestination(destination: pino.DestinationStream, secrets: readonly string[]): pino.DestinationStream {
  const wrapped = destination as pino.DestinationStream & { flush?: (cb?: (err?: Error) => void) => void; flushSync?: () => void };
  return {
    write: (line: string) => wrapped.write(scrubSecrets(line, secrets)),
    ...(typeof wrapped.flush === "function" ? { flush: (cb?: (err?: Error) => void) => wrapped.flush!(cb) } : {}),
    ...(typeof wrapped.flushSync === "function" ? { flushSync: () => wrapped.flushSync!() } : {}),
  } as pino.DestinationStream;
}
