import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { ZodError } from "zod";
import { issuesToDetails } from "@acebatch/contracts";

import { createHoldRegistry } from "./api-guard.ts";
import { ERROR_CODES, ProviderError } from "./provider-error.ts";
import { controlRoutes } from "./routes/control.ts";
import { fileRoutes } from "./routes/files.ts";
import { modelApiRoutes } from "./routes/model-api.ts";
import { SimConfigError, type SimConfigPatch } from "./sim-config.ts";
import { createSimulatorState, type SimulatorState } from "./simulator-state.ts";

export interface SimulatorOptions {
  /** pino logger; omitted = no logs. */
  logger?: Logger;
  /** The one bearer token /v1 accepts; undefined = any non-empty token. */
  token?: string | undefined;
  /** Clock in ms (default Date.now); a fake clock drives queueing and rendering in tests. */
  now?: () => number;
  /** Starting config (also what `POST /__sim/reset` returns to). */
  config?: SimConfigPatch;
}

/** Build the simulator app (never listens): `/v1` provider API, `/files` downloads, `/__sim` control. */
export function buildSimulator(options: SimulatorOptions = {}): { app: FastifyInstance; state: SimulatorState } {
  const state = createSimulatorState({ now: options.now ?? Date.now, ...(options.config ? { initialConfig: options.config } : {}) });
  const holds = createHoldRegistry();
  const logger: FastifyBaseLogger | undefined = options.logger;
  const app: FastifyInstance = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    // One debug line per call (below) instead of fastify's two info lines: benchmarks make thousands.
    logController: new LogController({ disableRequestLogging: true }),
    // Held (simulated-timeout) answers must not keep close() waiting for a minute.
    forceCloseConnections: true,
  });

  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    if (err instanceof ProviderError) return reply.code(err.statusCode).headers(err.headers).send(err.toBody());
    if (err instanceof SimConfigError) {
      return reply.code(400).send({ error_code: ERROR_CODES.invalidInput, error_message: err.message, details: err.issues });
    }
    if (err instanceof ZodError) {
      const details = issuesToDetails(err.issues);
      return reply.code(400).send({ error_code: ERROR_CODES.invalidInput, error_message: details.map((d) => `${d.path}: ${d.message}`).join("; "), details });
    }
    const status = "statusCode" in err && typeof err.statusCode === "number" ? err.statusCode : 500;
    if (status < 500) return reply.code(status).send({ error_code: status * 1000, error_message: err.message });
    request.log.error({ err }, "simulator error");
    return reply.code(500).send({ error_code: ERROR_CODES.upstream, error_message: "internal simulator error" });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error_code: ERROR_CODES.notFound, error_message: `no route ${request.method} ${request.url.split("?")[0]}` });
  });

  app.addHook("onResponse", async (request, reply) => {
    request.log.debug({ method: request.method, path: request.url.split("?")[0], status: reply.statusCode, ms: reply.elapsedTime }, "call");
  });
  app.addHook("preClose", async () => holds.releaseAll());

  app.register(modelApiRoutes, { prefix: "/v1", state, token: options.token, holds });
  app.register(fileRoutes, { state });
  app.register(controlRoutes, { prefix: "/__sim", state });
  return { app, state };
}
