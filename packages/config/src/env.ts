import { z } from "zod";

/** A configuration value that failed validation; the message names each bad variable. */
export class ConfigError extends Error {
  readonly variables: string[];
  constructor(problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join("\n")}\n` +
        "Fix or unset these environment variables and start again.",
    );
    this.name = "ConfigError";
    this.variables = problems.map((p) => p.variable);
  }
}

type EnvShape = Record<string, z.ZodType>;

/**
 * Parse environment variables with a flat zod shape keyed by variable name. Empty strings count as
 * unset, so `FOO=` falls back to the default. Throws ConfigError naming every bad variable.
 */
export function parseEnv<S extends EnvShape>(shape: S, env: NodeJS.ProcessEnv | Record<string, string | undefined>): z.output<z.ZodObject<S>> {
  const cleaned: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    cleaned[key] = value === undefined || value.trim() === "" ? undefined : value.trim();
  }
  const result = z.object(shape).safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? "(env)"), message: issue.message })),
    );
  }
  return result.data;
}

/** Reusable env field types. */
export const envFields = {
  port: (fallback: number) => z.coerce.number({ error: "must be a port number" }).int("must be a whole number").min(0).max(65_535, "must be a port number (0–65535)").default(fallback),
  positiveInt: (fallback: number, max = 1_000_000) =>
    z.coerce.number({ error: "must be a number" }).int("must be a whole number").min(1, "must be at least 1").max(max, `must be at most ${max}`).default(fallback),
  positiveNumber: (fallback: number) => z.coerce.number({ error: "must be a number" }).positive("must be greater than 0").default(fallback),
  boolean: (fallback: boolean) =>
    z
      .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
      .default(fallback ? "true" : "false")
      .transform((v) => v === "true" || v === "1" || v === "yes"),
  url: (fallback: string) => z.string().refine((v) => URL.canParse(v), "must be a URL such as http://127.0.0.1:8080").default(fallback),
  optionalUrl: () => z.string().refine((v) => URL.canParse(v), "must be a URL such as http://127.0.0.1:8080").optional(),
  redisUrl: (fallback: string) =>
    z.string().refine((v) => /^rediss?:\/\//.test(v) && URL.canParse(v), "must be a redis:// or rediss:// URL").default(fallback),
  logLevel: () => z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { error: "must be one of fatal, error, warn, info, debug, trace, silent" }).default("info"),
  /**
   * A Redis key prefix. It must be a hash tag (`{name}`) or contain one so that every key of a
   * queue lands in one Redis Cluster slot; BullMQ prefixes may not contain `:` at the edges.
   */
  keyPrefix: (fallback: string) =>
    z.string().regex(/^[A-Za-z0-9_{}.-]+$/, "may contain only letters, digits, _ . - { }").default(fallback),
} as const;
