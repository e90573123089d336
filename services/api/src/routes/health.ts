import { readProviderAuthFailure, redisIsReachable } from "@acebatch/queue";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";

/** Liveness and readiness, without auth, for load balancers and orchestrators. */
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
    const ready = redisOk && !authFailure;
    return reply.status(ready ? 200 : 503).send({ status: ready ? "ready" : "unavailable", checks });
  });
}
