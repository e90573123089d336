import { createRateCounter, type RateWindow } from "@acebatch/queue";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { Redis } from "ioredis";
import { errorBody } from "../error-handler.ts";
import { ApiError } from "../errors.ts";

/** Limits are per minute, in fixed windows that start with a client's first request. */
export const RATE_WINDOW_MS = 60_000;

/** Probes and scrapes are never limited: a 429 on /readyz would take a healthy instance out of service. */
const UNLIMITED_ROUTES = new Set(["/healthz", "/readyz", "/metrics"]);

export interface RateLimitOptions {
  /** Where the counters live (`<prefix>:ratelimit:`), shared by every API process. */
  redis: Redis;
  /** Redis key prefix (hash-tagged). */
  keyPrefix: string;
  /** Requests per minute for keys without their own limit and for unauthenticated clients (per IP). */
  defaultPerMinute: number;
}

/** Who a request counts against: its stored key, else the client's address. */
function clientOf(request: FastifyRequest): string {
  return request.principal?.kind === "key" ? `key:${request.principal.keyId}` : `ip:${request.ip}`;
}

function setRateHeaders(reply: FastifyReply, limit: number, window: RateWindow): void {
  reply.header("x-ratelimit-limit", limit);
  reply.header("x-ratelimit-remaining", Math.max(0, limit - window.count));
  reply.header("x-ratelimit-reset", Math.ceil(window.resetInMs / 1000));
}

/**
 * Request rate limits for every route (not 404s), after the auth hook has named the caller: a
 * stored key's request was already counted by its lookup script (auth.ts), in the same round
 * trip; anything else without a key (public routes, signed links) counts per client address.
 * The operator's ACEBATCH_ADMIN_KEY is not limited: it is the break-glass key scripts and the CLI
 * use. Availability first: when Redis cannot count, the request is served (routes that need a key
 * need Redis anyway).
 */
export const rateLimitPlugin = fp<RateLimitOptions>(async (app: FastifyInstance, options) => {
  const counter = createRateCounter({ redis: options.redis, prefix: options.keyPrefix });
  // One warning per outage, not one per request served uncounted.
  let counting = true;

  app.addHook("onRequest", async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === undefined || UNLIMITED_ROUTES.has(route) || request.principal?.kind === "admin") return;
    let window = request.rateWindow;
    if (!window) {
      try {
        window = await counter.hit(clientOf(request), RATE_WINDOW_MS);
        if (!counting) request.log.info("requests are counted against their rate limits again");
        counting = true;
      } catch (err) {
        if (counting) request.log.warn({ err }, "request not counted against its rate limit: Redis did not answer (served uncounted until it does)");
        counting = false;
        return;
      }
    }
    const limit = request.principal?.rateLimitPerMinute ?? options.defaultPerMinute;
    setRateHeaders(reply, limit, window);
    if (window.count > limit) {
      const retryAfterSeconds = Math.max(1, Math.ceil(window.resetInMs / 1000));
      reply.header("retry-after", retryAfterSeconds);
      const err = new ApiError(429, "rate_limited", `too many requests: the limit is ${limit} per minute; retry in ${retryAfterSeconds} seconds (see Retry-After)`);
      // Browser-login routes (Bull Board) have their plugin's own error handler, which would answer
      // in its format: answer in ours here (as the auth hook does for them).
      if (request.routeOptions.config.browserLogin) return reply.status(err.statusCode).send(errorBody(err.code, err.message));
      throw err;
    }
  });
});
