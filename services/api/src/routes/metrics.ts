import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { ApiMetrics } from "../metrics.ts";

/**
 * GET /metrics (Prometheus text, no auth) and the request-duration histogram of every route
 * registered after this plugin. Unmatched URLs share one `route` label so scanners cannot blow up
 * the series count.
 */
export const metricsRoutes = fp<{ metrics: ApiMetrics }>(async (app: FastifyInstance, { metrics }) => {
  app.addHook("onResponse", async (request, reply) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? "unmatched", status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header("content-type", metrics.registry.contentType).header("cache-control", "no-store").send(text);
  });
});
