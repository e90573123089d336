import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { Redis } from "ioredis";
import { ApiError } from "../errors.ts";

/** Probes and scrapes are never limited: a 429 on /readyz would take a healthy instance out of service. */
const UNLIMITED_ROUTES = new Set(["/healthz", "/readyz", "/metrics"]);

export interface RateLimitOptions {
  /** A dedicated connection (counters are shared by every API process); without one, counts are per process. */
  redis?: Redis;
  /** Redis key prefix (hash-tagged); counters live under `<prefix>:ratelimit:`. */
  keyPrefix: string;
  /** Requests per minute for keys without their own limit and for unauthenticated clients (per IP). */
  defaultPerMinute: number;
}

/** Who a request counts against: its key when it has one, else the client's address. */
function rateKey(request: FastifyRequest): string {
  const principal = request.principal;
  return principal && principal.kind !== "signed-url" ? `key:${principal.keyId}` : `ip:${request.ip}`;
}

/**
 * Per-key request rate limiting for every route registered after this (fixed one-minute windows in
 * Redis). Runs as a route-level onRequest hook, after the app-level auth hook has named the key.
 * The operator's ACEBATCH_ADMIN_KEY is not limited: it is the break-glass key scripts and the CLI use.
 */
export const rateLimitPlugin = fp<RateLimitOptions>(async (app: FastifyInstance, options) => {
  await app.register(rateLimit, {
    global: true,
    hook: "onRequest",
    timeWindow: 60_000,
    ...(options.redis ? { redis: options.redis, nameSpace: `${options.keyPrefix}:ratelimit:` } : {}),
    // Availability first: when Redis cannot count, serve (authenticated routes still need Redis anyway).
    skipOnError: true,
    keyGenerator: rateKey,
    max: (request) => request.principal?.rateLimitPerMinute ?? options.defaultPerMinute,
    allowList: (request) => request.principal?.kind === "admin" || UNLIMITED_ROUTES.has(request.routeOptions.url ?? ""),
    errorResponseBuilder: (_request, context) =>
      new ApiError(429, "rate_limited", `too many requests: the limit is ${context.max} per minute; retry in ${context.after} (see Retry-After)`),
  });
});
