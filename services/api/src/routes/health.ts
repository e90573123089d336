import { readProviderAuthFailure, redisIsReachable } from "@acebatch/queue";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";

/**
 * Liveness and readiness, without auth, for load balancers and orchestrators. Readiness is Redis
 * alone: an API instance that reaches Redis serves jobs, batches and audio even while the provider
 * refuses the token (the queue is paused meanwhile), so that is reported as `degraded`, not 503 —
 * a 503 would take every instance out of service at once. Alert on
 * `acebatch_provider_token_refused` in /metrics.
 */
export async function healthRoutes(app: FastifyInstance, { redis, keyPrefix }: { redis: Redis; keyPrefix: string }) {
  app.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));
  app.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    const redisOk = await redisIsReachable(redis);
    const authFailure = redisOk ? await readProviderAuthFailure(redis, keyPrefix).catch(() => null) : null;
    const checks = {
      redis: redisOk ? "ok" : "unreachable",
      provider: authFailure
        ? { status: "token_refused", since: authFailure.since, message: `the provider refuses RUNCOMFY_TOKEN; the queue is paused until it is accepted (${authFailure.message})` }
        : { status: "ok" },
    };
    const status = !redisOk ? "unavailable" : authFailure ? "degraded" : "ready";
    return reply.status(redisOk ? 200 : 503).send({ status, checks });
  });
}
