import { issuesToDetails } from "@acebatch/contracts";
import type { FastifySchemaCompiler } from "fastify";
import type { z } from "zod";
import { invalidInput } from "./errors.ts";

/**
 * Fastify validator compiler for zod route schemas. Failures become our 400 error body, with one
 * `details` row per bad field: body fields by their own path (`input.duration`), other parts
 * prefixed (`query.limit`, `params.id`, `headers.idempotency-key`).
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    const prefix = httpPart === "body" || !httpPart ? undefined : httpPart === "querystring" ? "query" : httpPart;
    return { error: invalidInput(issuesToDetails(result.error.issues, prefix)) };
  };
