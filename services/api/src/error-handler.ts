import type { ErrorBody } from "@acebatch/contracts";
import { isRedisUnavailableError } from "@acebatch/queue";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "./errors.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** What a 415 from this route tells the client to send instead (default: a JSON body). */
    acceptedMediaTypes?: string;
  }
}

/** Fastify's own client errors, mapped to our stable codes. */
const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: "payload_too_large" },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: "invalid_json", message: "the body is not valid JSON" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: "invalid_json", message: "the body is empty; send a JSON object" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: "unsupported_media_type" },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: "invalid_content_length" },
};

/** Our error body; `details` is always present (the spec's format), empty when no field is to blame. */
export function errorBody(code: string, message: string, details: ErrorBody["error"]["details"] = []): ErrorBody {
  return { error: { code, message, details } };
}

/** A 500 that says nothing of the cause (it is in the server log, logged by the caller). */
const internalError = (reply: FastifyReply) => reply.status(500).send(errorBody("internal", "internal error; the details are in the server log"));

/** The one error handler: domain errors as they are, client errors mapped, internals hidden on 5xx. */
export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (err instanceof ApiError) {
    if (err.statusCode >= 500) request.log.error({ err }, "request failed");
    return reply.status(err.statusCode).send(errorBody(err.code, err.message, err.details));
  }
  const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
  if (mapped) {
    const message =
      mapped.code === "payload_too_large"
        ? `the body is larger than this endpoint's limit of ${request.routeOptions.bodyLimit} bytes; send a smaller body`
        : mapped.code === "unsupported_media_type"
          ? `Content-Type ${JSON.stringify(request.headers["content-type"] ?? "")} is not accepted here: ${request.routeOptions.config.acceptedMediaTypes ?? "send a JSON body (application/json)"}`
          : (mapped.message ?? err.message);
    return reply.status(mapped.status).send(errorBody(mapped.code, message));
  }
  if (isRedisUnavailableError(err)) {
    request.log.warn({ reason: err.message }, "redis unavailable; answered 503");
    reply.header("retry-after", "5");
    return reply.status(503).send(errorBody("redis_unavailable", "the job store (Redis) is unavailable; retry shortly"));
  }
  const status = err.statusCode ?? 500;
  if (status < 500) return reply.status(status).send(errorBody("bad_request", err.message));
  request.log.error({ err }, "unhandled error");
  return internalError(reply);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return reply.status(404).send(errorBody("route_not_found", `no route ${request.method} ${request.url.split("?")[0]}`));
}

/**
 * Errors Fastify raises before any route or hook runs (Fastify's `frameworkErrors`), in our error
 * format: a path that is not valid percent-encoding, or a path segment over the router's limit.
 */
export function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (err.code === "FST_ERR_BAD_URL") {
    return reply.status(400).send(errorBody("bad_url", "the URL path is not valid percent-encoding; encode ids and other path segments with encodeURIComponent"));
  }
  if (err.code === "FST_ERR_MAX_PARAM_LENGTH") {
    return reply.status(414).send(errorBody("path_too_long", `a path segment is longer than ${MAX_PARAM_LENGTH} characters; no id is that long`));
  }
  request.log.error({ err }, "router error");
  return internalError(reply);
}

/** The router's limit on one path parameter (Fastify's default, stated so the message can name it). */
export const MAX_PARAM_LENGTH = 100;
