import { z } from "zod";
import { envFields } from "./env.ts";

/** Variables every acebatch process reads the same way. */
export const sharedEnvShape = {
  REDIS_URL: envFields.redisUrl("redis://127.0.0.1:6379"),
  ACEBATCH_PREFIX: envFields.keyPrefix("{acebatch}"),
  DATA_DIR: z.string().default("./data"),
  LOG_LEVEL: envFields.logLevel(),
  PUBLIC_BASE_URL: envFields.optionalUrl(),
  /** The API's listen address; the API and worker both derive PUBLIC_BASE_URL's default from it and PORT. */
  HOST: z
    .string()
    .default("127.0.0.1")
    .refine((host) => /^[A-Za-z0-9.\-:]+$/.test(host) && URL.canParse(`http://${host.includes(":") ? `[${host}]` : host}:1/`), "must be a host name or IP address, e.g. 0.0.0.0 or api.internal"),
  PORT: envFields.port(8080),
  URL_SIGNING_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  JOB_MAX_ATTEMPTS: envFields.positiveInt(5, 100),
  /** Price overrides, `model=µ$ per second` pairs separated by commas; parsed by each service with @acebatch/pricing. */
  PRICES_MICRO_USD_PER_SECOND: z.string().optional(),
};

/**
 * PUBLIC_BASE_URL, or its default `http://HOST:PORT` (a wildcard listen address becomes loopback,
 * an IPv6 address gets its brackets), without a trailing slash. The API and the worker must agree
 * on it: the worker signs source links the API serves.
 */
export function publicBaseUrlOf(env: { PUBLIC_BASE_URL?: string | undefined; HOST: string; PORT: number }): string {
  if (env.PUBLIC_BASE_URL) return env.PUBLIC_BASE_URL.replace(/\/$/, "");
  const host = env.HOST === "0.0.0.0" || env.HOST === "::" ? "127.0.0.1" : env.HOST;
  return `http://${host.includes(":") ? `[${host}]` : host}:${env.PORT}`;
}
