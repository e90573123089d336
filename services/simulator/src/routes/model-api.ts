import { DEFAULT_PRICES_MICRO_USD_PER_SECOND, isModelId, issuesToDetails, microUsdToUsd, MODEL_IDS } from "@acebatch/contracts";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";

import { createHoldRegistry, registerApiGuard, type GuardOptions, type HoldRegistry } from "../api-guard.ts";
import { ERROR_CODES, notOwner, ProviderError, unknownRequest } from "../provider-error.ts";
import { parseProviderInput } from "../provider-inputs.ts";
import type { SimRequest } from "../request-store.ts";

const requestParams = z.object({ id: z.string().min(1).max(200) });
const resultQuery = z.object({ include_cost: z.enum(["true", "false", "1", "0"]).optional() });

/** `http://host:port` as the client addressed us, so returned URLs work from where it stands. */
export function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function unknownModel(model: string): ProviderError {
  return new ProviderError(400, ERROR_CODES.unknownModel, `model "${model}" not found; available: ${MODEL_IDS.join(", ")}`);
}

/**
 * The RunComfy Model API under `/v1`: submit, status, result, cancel and the model catalogue.
 * Registered with `prefix: "/v1"`; the guard hooks apply to these routes only.
 */
export async function modelApiRoutes(app: FastifyInstance, options: GuardOptions & { holds?: HoldRegistry }): Promise<void> {
  const { state } = options;
  const holds = options.holds ?? createHoldRegistry();
  app.decorateRequest("simCall", null);
  app.decorateRequest("simOwner", null);
  app.decorateRequest("simHold", false);
  registerApiGuard(app, options, holds);

  const find = (request: FastifyRequest): SimRequest => {
    const { id } = requestParams.parse(request.params);
    const found = state.store.get(id);
    if (found === undefined || found.expired) throw unknownRequest(id, found?.expired);
    const owner = found.request.ownerKey;
    if (state.config().require_token && owner !== null && request.simOwner !== null && owner !== request.simOwner) {
      throw notOwner(id);
    }
    return found.request;
  };

  app.post("/models/*", async (request) => {
    const model = (request.params as { "*": string })["*"];
    if (!isModelId(model)) {
      state.calls.counters.rejected_submits++;
      throw unknownModel(model);
    }
    const parsed = parseProviderInput(model, request.body ?? {});
    if (!parsed.success) {
      state.calls.counters.rejected_submits++;
      const details = issuesToDetails(parsed.error.issues);
      throw new ProviderError(400, ERROR_CODES.invalidInput, `invalid input: ${details.map((d) => `${d.path}: ${d.message}`).join("; ")}`, {
        details,
      });
    }
    const rejectTags = state.config().reject_tags_containing;
    if (rejectTags !== null && String((parsed.data as { tags?: unknown }).tags ?? "").includes(rejectTags)) {
      state.calls.counters.rejected_submits++;
      throw new ProviderError(400, ERROR_CODES.invalidInput, `invalid input: tags: the model cannot render tags containing "${rejectTags}"`, {
        details: [{ path: "tags", message: `contains "${rejectTags}"` }],
      });
    }
    const created = state.submit({ model, input: parsed.data, ownerKey: request.simOwner });
    state.calls.counters.submits++;
    request.log.debug({ requestId: created.id, model }, "request submitted");
    const base = `${originOf(request)}/v1/requests/${created.id}`;
    return {
      request_id: created.id,
      status: "in_queue",
      status_url: `${base}/status`,
      result_url: `${base}/result`,
      cancel_url: `${base}/cancel`,
    };
  });

  app.get("/models/*", async (request) => {
    const model = (request.params as { "*": string })["*"];
    if (!isModelId(model)) throw unknownModel(model);
    return { model_id: model, base_price_usd: microUsdToUsd(DEFAULT_PRICES_MICRO_USD_PER_SECOND[model]), price_unit: "second" };
  });

  app.get("/requests/:id/status", async (request) => {
    state.calls.counters.status_calls++;
    const found = find(request);
    const position = state.store.queuePosition(found);
    return { request_id: found.id, status: found.status, ...(position === null ? {} : { queue_position: position }) };
  });

  app.get("/requests/:id/result", async (request) => {
    state.calls.counters.result_calls++;
    const found = find(request);
    const { include_cost } = resultQuery.parse(request.query);
    const completed = found.status === "completed";
    return {
      request_id: found.id,
      status: found.status,
      output: completed ? { audio: `${originOf(request)}/files/${found.id}.wav` } : null,
      created_at: iso(found.createdAt),
      finished_at: iso(found.finishedAt),
      error: found.error,
      ...(include_cost === "true" || include_cost === "1" ? { cost: microUsdToUsd(found.costMicroUsd) } : {}),
    };
  });

  app.post("/requests/:id/cancel", async (request) => {
    state.calls.counters.cancels++;
    const found = find(request);
    const outcome = state.store.cancel(found);
    return { request_id: found.id, status: found.status, outcome };
  });
}
