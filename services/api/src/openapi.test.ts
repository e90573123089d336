import { MODEL_IDS } from "@acebatch/contracts";
import { compileErrors, validate } from "@readme/openapi-parser";
import Fastify from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { afterAll, describe, expect, inject, it } from "vitest";
import { z } from "zod";
import { DOCS_PREFIX, ERROR_SCHEMA_NAME, openapiPlugin, UNDOCUMENTED_PATHS } from "./openapi.ts";
import { makeTestApp } from "./test-app.ts";
import { zodValidatorCompiler } from "./validation.ts";

type Operation = {
  security?: { bearerAuth?: string[] }[];
  "x-required-scope"?: string;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  parameters?: { name: string; in: string; description?: string; schema?: Record<string, unknown> }[];
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

const t = await makeTestApp({ label: "openapi", redisUrl: inject("redisUrl") });
afterAll(async () => {
  await t.close();
});

const toOpenapiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

async function fetchDocument(): Promise<Document> {
  const res = await t.call("GET", "/openapi.json", null);
  expect(res.statusCode).toBe(200);
  return res.json();
}

describe("the OpenAPI document", () => {
  it("is served without auth and passes a real OpenAPI 3.1 validator", async () => {
    const doc = await fetchDocument();
    expect(doc.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(doc) as never, { resolve: { external: false } });
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
    // The validator is not vacuous: a broken copy of the same document fails.
    const broken = structuredClone(doc) as unknown as { paths: Record<string, Record<string, { responses?: unknown }>> };
    delete broken.paths["/v1/jobs"]!.post!.responses;
    broken.paths["/v1/jobs"]!.post!.responses = "none";
    expect((await validate(broken as never, { resolve: { external: false } })).valid).toBe(false);
  });

  it("lists every route registered on the app (collected by onRoute), with its method", async () => {
    const doc = await fetchDocument();
    // HEAD routes are the automatic twins of GET routes; a route outside /v1 may opt out with
    // `schema.hide` (static dashboard files, Bull Board's internals), a /v1 route may not.
    const mustBeDocumented = t.app.routeCatalog.filter(
      (route) =>
        route.method !== "HEAD" &&
        !UNDOCUMENTED_PATHS.includes(route.url) &&
        route.url !== DOCS_PREFIX &&
        !route.url.startsWith(`${DOCS_PREFIX}/`) &&
        (route.url.startsWith("/v1/") || !route.hidden),
    );
    expect(mustBeDocumented.length).toBeGreaterThan(20);
    const missing = mustBeDocumented.filter((route) => !doc.paths[toOpenapiPath(route.url)]?.[route.method.toLowerCase()]);
    expect(missing.map((route) => `${route.method} ${route.url}`)).toEqual([]);
    for (const path of UNDOCUMENTED_PATHS) expect(doc.paths[path]).toBeUndefined();
  });

  it("marks every authenticated operation with bearer security and its scope, and every operation with the error body", async () => {
    const doc = await fetchDocument();
    expect(doc.components.schemas[ERROR_SCHEMA_NAME]).toMatchObject({ type: "object", required: ["error"] });
    for (const route of t.app.routeCatalog.filter((r) => r.url.startsWith("/v1/") && r.method !== "HEAD")) {
      const op = doc.paths[toOpenapiPath(route.url)]![route.method.toLowerCase()]!;
      const where = `${route.method} ${route.url}`;
      expect(op.security, where).toEqual([{ bearerAuth: [] }]);
      expect(op["x-required-scope"], where).toBe(route.scope);
      for (const range of ["4XX", "5XX"]) {
        expect(op.responses[range]?.content?.["application/json"]?.schema.$ref, `${where} ${range}`).toBe(`#/components/schemas/${ERROR_SCHEMA_NAME}`);
      }
    }
    const create = doc.paths["/v1/jobs"]!.post!;
    expect(Object.keys(create.requestBody!.content)).toEqual(["application/json"]);
  });

  it("documents the error body with details always present", async () => {
    const doc = await fetchDocument();
    expect(doc.components.schemas[ERROR_SCHEMA_NAME]).toMatchObject({
      properties: { error: { required: ["code", "message", "details"], properties: { details: { type: "array" } } } },
    });
  });

  it("documents POST /v1/jobs as one variant per model, each with that model's input fields", async () => {
    const doc = await fetchDocument();
    type Variant = { properties: { model: { enum: string[] }; input: { properties: Record<string, unknown>; required: string[] } } };
    const schema = doc.paths["/v1/jobs"]!.post!.requestBody!.content["application/json"]!.schema as { oneOf: Variant[] };
    const byModel = Object.fromEntries(schema.oneOf.map((v) => [v.properties.model.enum.join(), v]));
    expect(Object.keys(byModel).sort()).toEqual([...MODEL_IDS].sort());
    for (const variant of schema.oneOf) expect(Object.keys(variant.properties).sort()).toEqual(["finish", "input", "metadata", "model", "webhook_url"]);
    expect(byModel["acestep-ai/ace-step/text-to-audio"]!.properties.input).toMatchObject({
      required: ["tags"],
      properties: { duration: { minimum: 5, maximum: 240, default: 60 } },
    });
    expect(byModel["acestep-ai/ace-step/audio-outpaint"]!.properties.input.required.sort()).toEqual(["audio", "tags"]);
  });

  it("serves the UI at /docs without auth", async () => {
    for (const path of ["/docs", "/docs/"]) {
      const res = await t.call("GET", path, null);
      expect(res.statusCode, path).toBe(200);
      expect(res.headers["content-type"]).toMatch(/text\/html/);
    }
  });
});

describe("routes whose bodies are not JSON", () => {
  it("appear with their media types when the route declares schema.consumes", async () => {
    const app = Fastify({ logger: false });
    app.setValidatorCompiler(zodValidatorCompiler);
    await app.register(openapiPlugin, { version: "test" });
    await app.register(async (scope) => {
      scope.addContentTypeParser(["text/csv", "multipart/form-data"], (_request, payload, done) => done(null, payload));
      scope.withTypeProvider<ZodTypeProvider>().post(
        "/v1/uploads",
        {
          config: { scope: "batches" },
          schema: { consumes: ["text/csv", "multipart/form-data"], querystring: z.object({ dry_run: z.enum(["true", "false"]).optional() }) },
        },
        async () => ({ ok: true }),
      );
    });
    await app.ready();
    const doc = (app.swagger() as unknown) as Document;
    const op = doc.paths["/v1/uploads"]!.post!;
    expect(op.requestBody!.content["text/csv"]!.schema).toEqual({ type: "string", contentMediaType: "text/csv" });
    expect(op.requestBody!.content["multipart/form-data"]!.schema).toMatchObject({ type: "object", required: ["file"] });
    expect(op["x-required-scope"]).toBe("batches");
    const result = await validate(structuredClone(doc) as never, { resolve: { external: false } });
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
    await app.close();
  });

  it("documents the batch upload (CSV, NDJSON, multipart) in the real app", async () => {
    const doc = await fetchDocument();
    const upload = doc.paths["/v1/batches"]?.post;
    expect(upload, "POST /v1/batches").toBeDefined();
    expect(Object.keys(upload!.requestBody!.content).sort()).toEqual(["application/x-ndjson", "multipart/form-data", "text/csv"]);
    const query = Object.fromEntries((upload!.parameters ?? []).filter((p) => p.in === "query").map((p) => [p.name, p]));
    expect(Object.keys(query).sort()).toEqual(["dry_run", "max_cost_usd", "model", "name", "on_invalid", "webhook_url"]);
    expect(query.webhook_url!.description).toMatch(/batch\.completed/);
  });
});
