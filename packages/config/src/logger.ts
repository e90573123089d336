import pino, { type Logger, type LoggerOptions } from "pino";
import { redactSecretFields } from "./log-redact.ts";
import { scrubbingDestination, scrubSecrets, serializeRequest } from "./log-scrub.ts";

export { redactSecretFields } from "./log-redact.ts";
export { redactUrl, scrubSecrets, serializeRequest } from "./log-scrub.ts";

export interface LoggerConfig {
  name: string;
  level: string;
  /** Values masked wherever they appear in a line (the provider token, the admin key), behind the field redaction. */
  secrets?: readonly (string | undefined)[];
}

/**
 * Where log lines go: a file descriptor (default stdout) or path, through pino's asynchronous
 * writer, which flushes on exit.
 */
export function logDestination(dest: number | string = 1): pino.DestinationStream {
  return pino.destination(dest);
}

/** A pino logger with secrets redacted; JSON everywhere (pipe through pino-pretty to read it). */
export function createLogger(config: LoggerConfig, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    name: config.name,
    level: config.level,
    // Credential fields are masked in each line's object (log-redact.ts says why not pino's
    // `redact`), in the err serializer's output (formatters run before serializers) and in a
    // child's bindings (below).
    formatters: { log: redactSecretFields },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // `req` replaces Fastify's own request serializer: no headers, no `?key=` / `?signature=` values in URLs.
    serializers: { err: (err: Error) => redactSecretFields(scrubError(pino.stdSerializers.err(err))), req: serializeRequest },
  };
  const secrets = (config.secrets ?? []).filter((s): s is string => typeof s === "string" && s.length >= 8);
  const logger = pino(options, scrubbingDestination(destination ?? logDestination(), secrets));
  // pino serializes a child's bindings once, without the log formatter. Children are made with
  // Object.create(parent), so this one override covers every descendant (Fastify's included).
  const child = logger.child;
  logger.child = function redactedChild(this: Logger, bindings, childOptions) {
    return child.call(this, redactSecretFields(bindings), childOptions);
  } as Logger["child"];
  return logger;
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
