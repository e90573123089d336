import type { FastifyInstance } from "fastify";
import { serializerCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { SCOPES } from "../auth.ts";
import { budgetUpdateSchema } from "../routes/budget.ts";
import type { KeysService } from "./keys-service.ts";

export const createKeySchema = z.strictObject({
  name: z.string().trim().min(1, "name must not be empty").max(100),
  scopes: z
    .array(z.enum(SCOPES, { error: `each scope must be one of ${SCOPES.join(", ")}` }))
    .min(1, "give the key at least one scope")
    .max(SCOPES.length),
  budget: budgetUpdateSchema.optional(),
  rate_limit_per_minute: z.number().int().min(1).max(1_000_000).optional(),
});

const budgetViewSchema = z.object({
  limit_usd: z.number().nullable(),
  period: z.enum(["none", "day", "month"]),
  timezone: z.string(),
  spent_usd: z.number(),
  reserved_usd: z.number(),
  remaining_usd: z.number().nullable(),
  period_starts_at: z.string().nullable(),
  resets_at: z.string().nullable(),
});

export const keyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  key_hint: z.string().describe("the first characters of the secret, to tell keys apart"),
  rate_limit_per_minute: z.number().int().nullable().describe("null: the API's default (API_RATE_LIMIT_PER_MINUTE)"),
  budget: budgetViewSchema.nullable().describe("the key's own budget on the ledger; jobs it submits must fit in it and in the global one"),
  created_at: z.string(),
  last_used_at: z.string().nullable().describe("updated at most once a minute"),
  revoked_at: z.string().nullable(),
});

const createdKeySchema = keyViewSchema.extend({
  key: z.string().describe("the secret (ak_…): shown only in this response, stored only as its SHA-256"),
});

const keyIdParams = z.object({ id: z.string().min(1).max(100) });

/** POST/GET /v1/keys, GET/DELETE /v1/keys/:id, PUT /v1/keys/:id/budget; all need the admin scope. */
export async function keyRoutes(app: FastifyInstance, { keys }: { keys: KeysService }) {
  // Responses here have zod schemas (for the OpenAPI document); serialize them with zod, in this plugin only.
  app.setSerializerCompiler(serializerCompiler);
  const r = app.withTypeProvider<ZodTypeProvider>();
  const config = { scope: "admin" as const };

  r.post("/v1/keys", { config, schema: { body: createKeySchema, response: { 201: createdKeySchema } } }, async (request, reply) => {
    const created = await keys.create(request.body);
    request.log.info({ keyId: created.id, scopes: created.scopes, hasBudget: created.budget !== null }, "API key created");
    return reply.status(201).send(created);
  });

  r.get("/v1/keys", { config, schema: { response: { 200: z.object({ data: z.array(keyViewSchema) }) } } }, async () => keys.list());

  r.get("/v1/keys/:id", { config, schema: { params: keyIdParams, response: { 200: keyViewSchema } } }, async (request) => keys.get(request.params.id));

  r.delete("/v1/keys/:id", { config, schema: { params: keyIdParams, response: { 200: keyViewSchema } } }, async (request) => {
    const revoked = await keys.revoke(request.params.id);
    request.log.info({ keyId: revoked.id, revokedAt: revoked.revoked_at }, "API key revoked");
    return revoked;
  });

  r.put(
    "/v1/keys/:id/budget",
    { config, schema: { params: keyIdParams, body: budgetUpdateSchema, response: { 200: keyViewSchema } } },
    async (request) => {
      const updated = await keys.setBudget(request.params.id, request.body);
      request.log.info({ keyId: updated.id, limitUsd: updated.budget?.limit_usd ?? null }, "API key budget updated");
      return updated;
    },
  );
}
