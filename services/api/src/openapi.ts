import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { errorBodySchema } from "@acebatch/contracts";
import type { FastifyInstance, FastifySchema, RouteOptions } from "fastify";
import fp from "fastify-plugin";
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Scope } from "./auth.ts";

/** One registered route as the docs, the auth tests and the metrics see it. */
export interface RouteEntry {
  method: string;
  url: string;
  /** The scope its `config.scope` demands; undefined = public. */
  scope: Scope | undefined;
  /** Whether its schema says `hide: true` (kept out of the document by its owner). */
  hidden: boolean;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Every route registered after the OpenAPI plugin, in registration order (collected by onRoute). */
    routeCatalog: readonly RouteEntry[];
  }
}

/** Routes never in the document: probes, the scrape endpoint and the docs themselves. */
export const UNDOCUMENTED_PATHS: readonly string[] = ["/healthz", "/readyz", "/metrics", "/openapi.json"];
export const DOCS_PREFIX = "/docs";

export const ERROR_SCHEMA_NAME = "ErrorBody";
const ERROR_REF = { $ref: `#/components/schemas/${ERROR_SCHEMA_NAME}` };

const isUndocumented = (url: string) => UNDOCUMENTED_PATHS.includes(url) || url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`);

const isZod = (value: unknown): value is z.ZodType => value instanceof z.core.$ZodType;

/** Request-body schemas for bodies that are not JSON, by media type. */
function rawBodySchema(mediaType: string): Record<string, unknown> {
  if (mediaType === "multipart/form-data") {
    return {
      type: "object",
      required: ["file"],
      properties: { file: { type: "string", contentMediaType: "application/octet-stream", description: "the uploaded file" } },
    };
  }
  return { type: "string", contentMediaType: mediaType };
}

const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: ERROR_REF } } });

function describeAuth(route: RouteOptions, schema: FastifySchema): string | undefined {
  const scope = route.config?.scope;
  if (!scope) return schema.description;
  const how = route.config?.allowSignedUrl
    ? `Needs a key with the \`${scope}\` scope, or a signed link (\`expires\` + \`signature\`).`
    : `Needs a key with the \`${scope}\` scope (\`admin\` implies every scope).`;
  return schema.description ? `${schema.description}\n\n${how}` : how;
}

/**
 * Turn a route's schema into its OpenAPI operation: zod parts through fastify-type-provider-zod,
 * bearer security and the required scope from `config.scope`, our error body for 4XX/5XX, and
 * non-JSON request bodies from `schema.consumes` (e.g. `["text/csv", "multipart/form-data"]`).
 */
function createTransform() {
  const zodTransform = createJsonSchemaTransform({ skipList: [], zodToJsonConfig: { unrepresentable: "any" } });
  return (document: Parameters<typeof zodTransform>[0]) => {
    const { url, route } = document;
    const original = (document.schema ?? {}) as FastifySchema & Record<string, unknown>;
    if (original.hide || isUndocumented(url)) return { schema: { hide: true }, url };

    // Only zod parts go through the zod transform; plain JSON-schema parts are kept as they are.
    const zodParts: Record<string, unknown> = {};
    const plainParts: Record<string, unknown> = {};
    for (const [part, value] of Object.entries(original)) {
      const isSchemaPart = part === "body" || part === "querystring" || part === "params" || part === "headers";
      if (isSchemaPart && !isZod(value)) plainParts[part] = value;
      else zodParts[part] = value;
    }
    const transformed = zodTransform({ ...document, schema: zodParts }).schema as Record<string, unknown>;
    const schema: Record<string, unknown> = { ...transformed, ...plainParts };

    const consumes = original.consumes ?? [];
    if (!schema.body && consumes.length > 0) {
      schema.body = { content: Object.fromEntries(consumes.map((type) => [type, { schema: rawBodySchema(type) }])) };
    }
    const scope = route.config?.scope;
    if (scope) {
      schema.security = [{ bearerAuth: [] }];
      schema["x-required-scope"] = scope;
    }
    const description = describeAuth(route, original);
    if (description) schema.description = description;
    const segment = url.split("/").filter(Boolean)[url.startsWith("/v1/") ? 1 : 0];
    if (!schema.tags && segment) schema.tags = [segment];

    const responses = { ...((schema.response as Record<string, unknown> | undefined) ?? { "2XX": { description: "Success", content: { "*/*": { schema: {} } } } }) };
    responses["4XX"] ??= errorResponse("Client error: invalid input (400, `details` names each field), bad key (401), missing scope (403), unknown id (404), conflict (409), too large (413), rate limited (429, see Retry-After)");
    responses["5XX"] ??= errorResponse("Server error, or Redis unavailable (503, see Retry-After)");
    schema.response = responses;
    return { schema, url };
  };
}

function createTransformObject() {
  const zodTransformObject = createJsonSchemaTransformObject({ zodToJsonConfig: { unrepresentable: "any" } });
  const { $schema: _ignored, ...errorJsonSchema } = z.toJSONSchema(errorBodySchema, { target: "draft-2020-12" }) as Record<string, unknown>;
  return (document: Parameters<typeof zodTransformObject>[0]) => {
    const object = zodTransformObject(document) as { components?: { schemas?: Record<string, unknown> } };
    return {
      ...object,
      components: { ...object.components, schemas: { ...object.components?.schemas, [ERROR_SCHEMA_NAME]: errorJsonSchema } },
    } as ReturnType<typeof zodTransformObject>;
  };
}

/**
 * The OpenAPI 3.1 document (`GET /openapi.json`) and its UI (`/docs`), generated from the route
 * schemas; plus the catalog of every route registered after it. Register it before any route.
 */
export const openapiPlugin = fp<{ version: string }>(async (app: FastifyInstance, { version }) => {
  const routes: RouteEntry[] = [];
  app.decorate("routeCatalog", routes);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) {
      routes.push({ method, url: route.url, scope: route.config?.scope, hidden: Boolean((route.schema as FastifySchema | undefined)?.hide) });
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "acebatch",
        version,
        description:
          "Batch job queue for ACE Step music generation on the RunComfy Model API. Every `/v1` route needs `Authorization: Bearer <key>`; errors are always `{\"error\": {\"code\", \"message\", \"details\": [{\"path\", \"message\"}]}}` (`details` empty when no field is to blame).",
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: "http", scheme: "bearer", description: "ACEBATCH_ADMIN_KEY, or an `ak_…` key from POST /v1/keys" },
        },
      },
    },
    transform: createTransform(),
    transformObject: createTransformObject(),
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
});
