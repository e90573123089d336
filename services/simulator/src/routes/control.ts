import type { FastifyInstance } from "fastify";
import { z } from "zod";

import { ERROR_CODES, ProviderError } from "../provider-error.ts";
import type { SimulatorState } from "../simulator-state.ts";

const callsQuery = z.object({ since: z.coerce.number().finite().default(0) });
const requestParams = z.object({ id: z.string() });

/** `/__sim/*`: configure, inspect and reset the simulator. No auth: it is a test fixture. */
export async function controlRoutes(app: FastifyInstance, options: { state: SimulatorState }): Promise<void> {
  const { state } = options;

  app.get("/config", async () => state.config());

  app.put("/config", async (request) => {
    const config = state.updateConfig(request.body ?? {});
    request.log.info({ config }, "simulator config changed");
    return config;
  });

  app.get("/stats", async () => state.stats());

  app.post("/reset", async (request) => {
    state.reset();
    request.log.info("simulator reset");
    return { reset: true };
  });

  /** Every /v1 call since `since` (ms, the simulator's clock), oldest first: `[{at_ms, method, path, status}]`. */
  app.get("/calls", async (request) => {
    const { since } = callsQuery.parse(request.query);
    return state.calls.log.since(since);
  });

  /** What the simulator knows about one request, including what the protocol does not show. */
  app.get("/requests/:id", async (request) => {
    const { id } = requestParams.parse(request.params);
    const found = state.store.get(id);
    if (found === undefined) throw new ProviderError(404, ERROR_CODES.unknownRequest, `request ${id} not found`);
    const r = found.request;
    return {
      request_id: r.id,
      model: r.model,
      input: r.input,
      seed: r.seed,
      status: r.status,
      expired: found.expired,
      queue_position: state.store.queuePosition(r),
      source_seconds: r.sourceSeconds,
      output_seconds: r.outputSeconds,
      sample_rate: r.sampleRate,
      cost_micro_usd: r.costMicroUsd,
      error: r.error,
      created_at_ms: r.createdAt,
      started_at_ms: r.startedAt,
      finished_at_ms: r.finishedAt,
    };
  });
}
