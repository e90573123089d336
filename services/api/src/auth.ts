import { hash, timingSafeEqual } from "node:crypto";
import type { ErrorBody } from "@acebatch/contracts";
import { looksLikeApiKey, type ApiKeyAuth, type RateWindow } from "@acebatch/queue";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { ApiError } from "./errors.ts";

export const SCOPES = ["jobs:write", "jobs:read", "batches", "schedules", "budget:admin", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  /** The stored key's id (`key_...`), `admin` for ACEBATCH_ADMIN_KEY, `signed-url` for a signed link. */
  keyId: string;
  kind: "admin" | "key" | "signed-url";
  scopes: readonly Scope[];
  /** Requests per minute allowed for this key; null = the API default. */
  rateLimitPerMinute: number | null;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are public. */
    scope?: Scope;
    /** Also accept a valid `expires` + `signature` query instead of a key (signed links). */
    allowSignedUrl?: boolean;
    /**
     * Browser pages (Bull Board): also accept the key once as `?key=`, answered with an HttpOnly
     * cookie and a redirect to the same URL without it, and from then on the cookie.
     */
    browserLogin?: { cookiePath: string };
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** A stored key's rate window, counted by its lookup (keys/rate-limit.ts reads it); null otherwise. */
    rateWindow: RateWindow | null;
  }
}

export interface AuthOptions {
  adminKey: string;
  /** Verifies a signed link for this request path; used for routes with `allowSignedUrl`. */
  verifySignedUrl: (path: string, expires: string | undefined, signature: string | undefined) => boolean;
  /**
   * The stored key for a presented `ak_…` secret (revoked ones included), or null, with this
   * request counted against the key's rate window (null for a revoked key). Reads Redis every time.
   */
  findKey: (secret: string) => Promise<{ key: ApiKeyAuth; window: RateWindow | null } | null>;
}

/** The cookie a browser keeps its key in after `?key=` (HttpOnly, SameSite=Strict, only sent under the route's cookiePath). */
export const BROWSER_COOKIE = "acebatch_key";
const BROWSER_COOKIE_MAX_AGE_SECONDS = 12 * 3_600;

const digest = (value: string) => hash("sha256", value, "buffer");

/** Whether a principal may use a route needing `scope` (`admin` implies every scope). */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes(scope) || principal.scopes.includes("admin");
}

/** The stored API key behind a request, for per-key budgets; null for the admin key and signed links. */
export function budgetKeyIdOf(principal: Principal | null): string | null {
  return principal?.kind === "key" ? principal.keyId : null;
}

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

function cookieValue(request: FastifyRequest, name: string): string | null {
  const header = request.headers.cookie;
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** The request URL without its `key` query parameter (where a browser is sent after `?key=`). */
function withoutKeyParam(url: string): string {
  const [path, query = ""] = url.split("?", 2) as [string, string?];
  const rest = new URLSearchParams(query);
  rest.delete("key");
  const search = rest.toString();
  return search ? `${path}?${search}` : path;
}

const errorBody = (err: ApiError): ErrorBody => ({ error: { code: err.code, message: err.message, details: err.details } });

/**
 * Bearer-key authentication and per-route scopes for every route that declares `config.scope`.
 * Keys: ACEBATCH_ADMIN_KEY (every scope) or a stored `ak_…` key, looked up by the SHA-256 of the
 * secret on every request (a revocation holds at once in every process).
 */
export const authPlugin = fp<AuthOptions>(async (app: FastifyInstance, options) => {
  const adminDigest = digest(options.adminKey);
  app.decorateRequest("principal", null);
  app.decorateRequest("rateWindow", null);

  async function principalFor(request: FastifyRequest, token: string): Promise<Principal> {
    if (timingSafeEqual(digest(token), adminDigest)) return { keyId: "admin", kind: "admin", scopes: SCOPES, rateLimitPerMinute: null };
    const found = looksLikeApiKey(token) ? await options.findKey(token) : null;
    if (!found) throw new ApiError(401, "unauthorized", "the API key is not valid");
    const { key, window } = found;
    request.rateWindow = window;
    if (key.revoked_at) throw new ApiError(401, "key_revoked", `this API key was revoked at ${key.revoked_at}`);
    const scopes = key.scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));
    return { keyId: key.id, kind: "key", scopes, rateLimitPerMinute: key.rate_limit_per_minute };
  }

  async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<"redirected" | void> {
    const config = request.routeOptions.config;
    const scope = config.scope!;
    const query = (request.query ?? {}) as Record<string, string | undefined>;
    let token = bearerToken(request);
    let fromQuery = false;
    if (token === null && config.allowSignedUrl) {
      const path = request.url.split("?")[0]!;
      if (options.verifySignedUrl(path, query.expires, query.signature)) {
        request.principal = { keyId: "signed-url", kind: "signed-url", scopes: [scope], rateLimitPerMinute: null };
        return;
      }
      if (query.signature) throw new ApiError(401, "invalid_signature", "the signed link is invalid or has expired");
    }
    if (token === null && config.browserLogin) {
      if (typeof query.key === "string" && query.key) {
        token = query.key;
        fromQuery = true;
      } else token = cookieValue(request, BROWSER_COOKIE);
    }
    if (token === null) {
      throw new ApiError(401, "unauthorized", "missing API key: send Authorization: Bearer <key>");
    }
    const principal = await principalFor(request, token);
    request.principal = principal;
    if (!hasScope(principal, scope)) {
      throw new ApiError(403, "forbidden", `this key lacks the "${scope}" scope`);
    }
    if (fromQuery) {
      // Swap the key in the URL for a cookie at once, so it leaves the address bar and history.
      const secure = request.protocol === "https" ? "; Secure" : "";
      const path = config.browserLogin!.cookiePath;
      reply.header(
        "set-cookie",
        `${BROWSER_COOKIE}=${encodeURIComponent(token)}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=${BROWSER_COOKIE_MAX_AGE_SECONDS}${secure}`,
      );
      await reply.redirect(withoutKeyParam(request.url), 303);
      return "redirected";
    }
  }

  app.addHook("onRequest", async (request, reply) => {
    if (!request.routeOptions.config.scope) return;
    try {
      if ((await authenticate(request, reply)) === "redirected") return reply;
    } catch (err) {
      // Browser-login routes belong to third-party plugins with their own error handlers: answer
      // in our error format here rather than through theirs.
      if (err instanceof ApiError && request.routeOptions.config.browserLogin) {
        return reply.status(err.statusCode).send(errorBody(err));
      }
      throw err;
    }
  });
});
