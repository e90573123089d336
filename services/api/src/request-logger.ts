import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from "fastify";
import type { Bindings, ChildLoggerOptions } from "fastify/types/logger.js";

type LevelName = "fatal" | "error" | "warn" | "info" | "debug" | "trace";
type LogFn = (...args: unknown[]) => void;

const LEVEL_VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/**
 * A request's logger that becomes a real pino child (whose bindings pass through redaction, the
 * costliest part of a small request) only when something is logged at an enabled level.
 * Methods live on the prototype, so making one per request is one small allocation.
 */
class LazyRequestLogger {
  #real: FastifyBaseLogger | null = null;
  #level: string;
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
    this.#level = options.level ?? parent.level;
  }

  get level(): string {
    return this.#level;
  }

  set level(next: string) {
    this.#level = next;
    if (this.#real) this.#real.level = next;
  }

  /** The request's pino child, made the first time something is logged through it. */
  #realLogger(): FastifyBaseLogger {
    this.#real ??= this.#parent.child(this.#bindings, { ...this.#options, level: this.#level });
    return this.#real;
  }

  #log(name: LevelName, args: unknown[]): void {
    if (LEVEL_VALUES[name]! < (LEVEL_VALUES[this.#level] ?? 0)) return;
    (this.#realLogger()[name] as LogFn)(...args);
  }

  fatal(...args: unknown[]) {
    this.#log("fatal", args);
  }
  error(...args: unknown[]) {
    this.#log("error", args);
  }
  warn(...args: unknown[]) {
    this.#log("warn", args);
  }
  info(...args: unknown[]) {
    this.#log("info", args);
  }
  debug(...args: unknown[]) {
    this.#log("debug", args);
  }
  trace(...args: unknown[]) {
    this.#log("trace", args);
  }
  silent() {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#realLogger().child(bindings, options);
  }
}

/**
 * Fastify's `childLoggerFactory`: at `warn` a healthy request logs nothing and never pays for
 * its pino child; lines it does write carry the request id and are redacted like any other.
 */
export function lazyRequestLogger(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(parent, bindings, options) as unknown as FastifyBaseLogger;
}

/**
 * One access line per request at info ("request completed": method, URL, status, time), the
 * arrival line at debug. Fastify's default logs both at info; each line is a few µs of the API's
 * CPU per request (README "Benchmarks").
 */
export class AccessLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (!this.isLogDisabled(request)) request.log.debug({ req: request }, "incoming request");
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, "request errored");
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, "request completed");
  }
}
