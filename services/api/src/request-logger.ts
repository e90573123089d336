import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from "fastify";
import type { Bindings, ChildLoggerOptions } from "fastify/types/logger.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Fields a handler adds to its request's access line (the job it accepted...) instead of logging a line of its own. */
    accessLog: Record<string, unknown> | null;
  }
}

type LevelName = "fatal" | "error" | "warn" | "info" | "debug" | "trace";
type LogFn = (...args: unknown[]) => void;

const LEVEL_VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/**
 * A request's logger that becomes a real pino child (bindings serialized, redacted) only when
 * something is logged at an enabled level.
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
 * One access line per request at info ("request completed": method, URL, status, time and any
 * `request.accessLog` fields), the arrival line at debug. Fastify's default logs both at info, and
 * every line costs the API's event loop several µs per request (README "Benchmarks").
 */
export class AccessLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (!this.isLogDisabled(request)) request.log.debug({ req: request }, "incoming request");
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = { ...request.accessLog, req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, "request errored");
    else reply.log.info(line, "request completed");
  }
}
