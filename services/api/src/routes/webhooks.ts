import { webhookUrlSchema } from "@acebatch/contracts";
import {
  createDeliveryStore,
  createEndpointStore,
  createWebhookQueue,
  DELIVERY_STATUSES,
  deliveryJobId,
  enqueueDelivery,
  EVENT_TYPES,
  eventTypeSchema,
  MAX_ENDPOINTS,
  secretProblem,
  type DeliveryRecord,
  type WebhookEndpoint,
} from "@acebatch/webhooks";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import { z } from "zod";
import { ApiError, notFound } from "../errors.ts";

export interface WebhookRoutesOptions {
  /** A producer-role connection (the replay queue shares it). */
  redis: Redis;
  /** Redis key prefix (named so Fastify does not take it for a route prefix). */
  keyPrefix: string;
}

const createEndpointSchema = z.object({
  url: webhookUrlSchema,
  /** Event types to receive; every type when omitted. */
  events: z.array(eventTypeSchema, { error: `events must be a list of: ${EVENT_TYPES.join(", ")}` }).min(1).optional(),
  description: z.string().max(500).optional(),
  /** A `whsec_…` secret of your own; one is generated (and shown once) otherwise. */
  secret: z
    .string()
    .superRefine((v, ctx) => {
      const problem = secretProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: `secret ${problem}` });
    })
    .optional(),
});
const endpointParams = z.object({ id: z.string().min(1).max(100) });
const deliveryParams = z.object({ id: z.string().min(1).max(100) });
const deliveriesQuery = z.object({
  status: z.enum(DELIVERY_STATUSES).default("dead"),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().regex(/^\d{1,9}$/, "cursor must be the next_cursor of the previous page").optional(),
});

/** An endpoint without its secret (the secret is shown once, in the answer to its creation). */
function endpointView(endpoint: WebhookEndpoint) {
  return { id: endpoint.id, url: endpoint.url, events: endpoint.events, description: endpoint.description, created_at: endpoint.created_at };
}

function deliveryView(rec: DeliveryRecord) {
  let event: unknown = null;
  try {
    event = JSON.parse(rec.body);
  } catch {
    // Stored by us, so always JSON; a damaged record still lists.
  }
  return {
    id: rec.id,
    event_id: rec.event_id,
    event_type: rec.event_type,
    subject_id: rec.subject_id,
    endpoint_id: rec.endpoint_id,
    url: rec.url,
    status: rec.status,
    attempts: rec.attempts,
    replays: rec.replays,
    last_status_code: rec.last_status_code,
    last_error: rec.last_error,
    last_attempt_at: rec.last_attempt_at,
    next_attempt_at: rec.next_attempt_at,
    created_at: rec.created_at,
    delivered_at: rec.delivered_at,
    dead_at: rec.dead_at,
    event,
  };
}

/**
 * Account-level webhook endpoints (`/v1/webhooks`) and deliveries: the dead-letter list
 * (`GET /v1/webhooks/deliveries?status=dead`) and replay. Admin scope throughout.
 */
export async function webhookRoutes(app: FastifyInstance, { redis, keyPrefix }: WebhookRoutesOptions) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const scope = { scope: "admin" as const };
  const endpoints = createEndpointStore({ redis, prefix: keyPrefix });
  const deliveries = createDeliveryStore({ redis, prefix: keyPrefix });
  const queue = createWebhookQueue(redis, keyPrefix);
  app.addHook("onClose", async () => queue.close());

  r.post("/v1/webhooks", { config: scope, schema: { body: createEndpointSchema } }, async (request, reply) => {
    const endpoint = await endpoints.create({
      url: request.body.url,
      events: request.body.events ?? EVENT_TYPES,
      description: request.body.description ?? null,
      secret: request.body.secret,
    });
    if (!endpoint) throw new ApiError(409, "endpoint_limit", `a deployment may have at most ${MAX_ENDPOINTS} webhook endpoints; delete one first`);
    request.log.info({ endpointId: endpoint.id, events: endpoint.events }, "webhook endpoint created");
    return reply.status(201).send({ ...endpointView(endpoint), secret: endpoint.secret });
  });

  r.get("/v1/webhooks", { config: scope }, async () => ({ data: (await endpoints.list()).map(endpointView) }));

  r.get("/v1/webhooks/:id", { config: scope, schema: { params: endpointParams } }, async (request) => {
    const endpoint = await endpoints.get(request.params.id);
    if (!endpoint) throw notFound("webhook endpoint", request.params.id);
    return endpointView(endpoint);
  });

  r.delete("/v1/webhooks/:id", { config: scope, schema: { params: endpointParams } }, async (request) => {
    const removed = await endpoints.remove(request.params.id);
    if (!removed) throw notFound("webhook endpoint", request.params.id);
    request.log.info({ endpointId: removed.id }, "webhook endpoint deleted");
    return { ...endpointView(removed), deleted: true };
  });

  r.get("/v1/webhooks/deliveries", { config: scope, schema: { querystring: deliveriesQuery } }, async (request) => {
    const { status, limit, cursor } = request.query;
    const page = await deliveries.list(status, limit, cursor ? Number(cursor) : 0);
    return { data: page.records.map(deliveryView), next_cursor: page.nextOffset === null ? null : String(page.nextOffset) };
  });

  r.get("/v1/webhooks/deliveries/:id", { config: scope, schema: { params: deliveryParams } }, async (request) => {
    const rec = await deliveries.get(request.params.id);
    if (!rec) throw notFound("webhook delivery", request.params.id);
    return deliveryView(rec);
  });

  r.post("/v1/webhooks/deliveries/:id/replay", { config: scope, schema: { params: deliveryParams } }, async (request, reply) => {
    const { id } = request.params;
    const outcome = await deliveries.replay(id);
    if (!outcome.ok && outcome.reason === "missing") throw notFound("webhook delivery", id);
    if (!outcome.ok) {
      // Pending: fine if its attempts are queued; a replay whose enqueue was lost is enqueued again.
      const rec = await deliveries.get(id);
      if (!rec) throw notFound("webhook delivery", id);
      if (await queue.getJob(deliveryJobId(id, rec.replays))) {
        throw new ApiError(409, "delivery_pending", `delivery ${id} is still being attempted (next attempt ${rec.next_attempt_at ?? "soon"}); replay it once it is dead or delivered`);
      }
      await enqueueDelivery(queue, id, rec.replays);
      return reply.status(202).send(deliveryView(rec));
    }
    await enqueueDelivery(queue, id, outcome.replay);
    request.log.info({ deliveryId: id, replay: outcome.replay }, "webhook delivery replayed");
    const rec = await deliveries.get(id);
    return reply.status(202).send(deliveryView(rec!));
  });
}
