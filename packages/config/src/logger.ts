import pino, { type Logger, type LoggerOptions } from "pino";
import { scrubbingDestination, scrubSecrets, serializeRequest } from "./log-scrub.ts";

export { redactUrl, scrubSecrets, serializeRequest } from "./log-scrub.ts";

/** Paths redacted from every log line: tokens, API keys, auth headers, signatures. */
export const REDACT_PATHS = [
  "token",
  "*.token",
  "apiKey",
  "*.apiKey",
  "authorization",
  "*.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["idempotency-key"]',
  "headers.authorization",
  "*.headers.authorization",
  "secret",
  "*.secret",
  "adminKey",
  "*.adminKey",
  "secretAccessKey",
  "*.secretAccessKey",
  // Deeper config objects ({ config: { storage: { s3: { secretAccessKey } } } }) and other credential names.
  "*.*.secretAccessKey",
  "*.*.*.secretAccessKey",
  "*.*.token",
  "*.*.*.token",
  "*.*.secret",
  "*.*.authorization",
  "sessionToken",
  "*.sessionToken",
  "*.*.sessionToken",
  "password",
  "*.password",
  "*.*.adminKey",
  "RUNCOMFY_TOKEN",
  "*.RUNCOMFY_TOKEN",
  "ACEBATCH_ADMIN_KEY",
  "*.ACEBATCH_ADMIN_KEY",
  "S3_SECRET_ACCESS_KEY",
  "*.S3_SECRET_ACCESS_KEY",
  "URL_SIGNING_SECRET",
  "*.URL_SIGNING_SECRET",
  "WEBHOOK_SECRET",
  "*.WEBHOOK_SECRET",
  'req.headers["x-api-key"]',
  "headers.cookie",
  "*.headers.cookie",
  'headers["set-cookie"]',
  '*.headers["set-cookie"]',
  "query.key",
  "query.signature",
  "*.query.key",
  "*.query.signature",
];

export interface LoggerConfig {
  name: string;
  level: string;
  /** Values masked wherever they appear in a line (the provider token, the admin key), behind `redact`. */
  secrets?: readonly (string | undefined)[];
}

/** A pino logger with secrets redacted; JSON everywhere (pipe through pino-pretty to read it). */
export function createLogger(config: LoggerConfig, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    name: config.name,
    level: config.level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // `req` replaces Fastify's own request serializer: no `?key=` / `?signature=` values in URLs.
    serializers: { err: (err: Error) => scrubError(pino.stdSerializers.err(err)), req: serializeRequest },
  };
  const secrets = (config.secrets ?? []).filter((s): s is string => typeof s === "string" && s.length >= 8);
  return pino(options, scrubbingDestination(destination ?? pino.destination(1), secrets));
}

/** Error messages and stacks can quote a URL or a key: mask those too. */
function scrubError(serialized: ReturnType<typeof pino.stdSerializers.err>) {
  if (!serialized || typeof serialized !== "object") return serialized;
  // A copy: a plain object passed as `err` is the caller's and must not change.
  const out = { ...serialized };
  if (typeof out.message === "string") out.message = scrubSecrets(out.message);
  if (typeof out.stack === "string") out.stack = scrubSecrets(out.stack);
  return out;
}

export type { Logger };
