import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trackChild, trackDirectory, untrackDirectory } from "./child-reaper.ts";
import { pathDirectories, redisServerBinFromEnv } from "./env.ts";
import { freePort } from "./free-port.ts";
import { lineSplitter, OutputBuffer } from "./output-buffer.ts";

/** Raised when no redis-server binary can be found; the message says how to get one. */
export class RedisNotFoundError extends Error {
  constructor(detail: string) {
    super(
      `No Redis for the tests: ${detail}\n` +
        "Either install the Redis server (Debian/Ubuntu: `apt-get install -y redis-server`; macOS: `brew install redis`),\n" +
        "or point the tests at a Redis you own with REDIS_URL=redis://host:port (never a shared production instance),\n" +
        "or run a Docker engine so testcontainers can start redis:7.",
    );
    this.name = "RedisNotFoundError";
  }
}

export interface SpawnRedisOptions {
  /** Port to listen on; default a free one (retried if it is taken before Redis binds it). */
  port?: number;
  /** Data directory; default a fresh temp dir, removed by stop(). A given dir is never removed. */
  dir?: string;
  /** How long to wait for "Ready to accept connections", in milliseconds (default 15 000). */
  readyTimeoutMs?: number;
  /** Extra redis-server arguments, e.g. ["--maxmemory", "64mb"]. */
  extraArgs?: string[];
}

/** A redis-server child process of this test run. */
export interface SpawnedRedis {
  readonly url: string;
  readonly source: "spawned";
  readonly port: number;
  /** The data directory (AOF lives in `<dir>/appendonlydir`). */
  readonly dir: string;
  /** pid of the current redis-server process, undefined while it is down. */
  readonly pid: number | undefined;
  /** Whether redis-server is currently running. */
  readonly running: boolean;
  /** Recent stdout/stderr of redis-server (across restarts). */
  output(): string;
  /** Take Redis down but keep port and data dir: SIGTERM (AOF flushed) or SIGKILL (a crash). */
  down(options?: { signal?: "SIGTERM" | "SIGKILL" }): Promise<void>;
  /** Start Redis again on the same port and dir; the AOF is replayed. */
  up(): Promise<void>;
  /** down() then up(), optionally staying down for `downtimeMs` in between. */
  restart(options?: { signal?: "SIGTERM" | "SIGKILL"; downtimeMs?: number }): Promise<void>;
  /** Shut Redis down and remove a temp data dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** The redis-server binary: REDIS_SERVER_BIN, else the first on PATH or in the usual places. */
export function findRedisServer(): string | undefined {
  const explicit = redisServerBinFromEnv();
  if (explicit !== undefined) return isExecutable(explicit) ? explicit : undefined;
  const dirs = [...pathDirectories(), "/usr/bin", "/usr/local/bin", "/usr/sbin", "/opt/homebrew/bin"];
  for (const dir of dirs) {
    const candidate = join(dir, "redis-server");
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const READY = /Ready to accept connections/;
const PORT_TAKEN = /Address already in use|bind: .*in use|Could not create server TCP listening socket/i;

/**
 * Start a private redis-server on 127.0.0.1 with AOF on and `noeviction` (BullMQ's locks need it),
 * no RDB snapshots, and wait until it accepts connections.
 */
export async function spawnRedis(options: SpawnRedisOptions = {}): Promise<SpawnedRedis> {
  const bin = findRedisServer();
  if (bin === undefined) {
    const explicit = redisServerBinFromEnv();
    throw new RedisNotFoundError(
      explicit !== undefined ? `REDIS_SERVER_BIN=${explicit} is not an executable file.` : "redis-server is not on PATH.",
    );
  }
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "acebatch-redis-")));
  if (ownsDir) trackDirectory(dir);
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const output = new OutputBuffer(256 * 1024);
  let child: ChildProcess | undefined;
  let stopped = false;

  const args = (port: number): string[] => [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--save", "",
    "--appendonly", "yes",
    "--appendfsync", "everysec",
    "--dir", dir,
    "--maxmemory-policy", "noeviction",
    "--daemonize", "no",
    "--logfile", "",
    ...(options.extraArgs ?? []),
  ];

  const launch = (port: number): Promise<ChildProcess> =>
    new Promise((resolve, reject) => {
      output.append(`--- redis-server on port ${port} ---\n`);
      const proc = spawn(bin, args(port), { stdio: ["ignore", "pipe", "pipe"] });
      trackChild(proc);
      let settled = false;
      const timer = setTimeout(() => {
        fail(new Error(`redis-server did not become ready within ${readyTimeoutMs} ms.\n${output.toString()}`));
        proc.kill("SIGKILL");
      }, readyTimeoutMs);
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      };
      const onLine = (line: string): void => {
        if (!settled && READY.test(line)) {
          settled = true;
          clearTimeout(timer);
          resolve(proc);
        }
      };
      for (const stream of [proc.stdout, proc.stderr]) {
        stream?.setEncoding("utf8");
        const split = lineSplitter(onLine);
        stream?.on("data", (chunk: string) => {
          output.append(chunk);
          split(chunk);
        });
      }
      proc.once("error", (err) => fail(new Error(`Could not start ${bin}: ${err.message}`, { cause: err })));
      proc.once("exit", (code, signal) =>
        fail(new Error(`redis-server exited before it was ready (code ${code}, signal ${signal}).\n${output.toString()}`)),
      );
    });

  let port = options.port ?? (await freePort());
  for (let attempt = 1; ; attempt += 1) {
    try {
      child = await launch(port);
      break;
    } catch (err) {
      // Another process took the free port between freePort() and the bind: pick another.
      const taken = err instanceof Error && PORT_TAKEN.test(err.message);
      if (!taken || options.port !== undefined || attempt >= 3) {
        if (ownsDir) {
          await rm(dir, { recursive: true, force: true });
          untrackDirectory(dir);
        }
        throw err;
      }
      port = await freePort();
    }
  }

  const down = async ({ signal = "SIGTERM" }: { signal?: "SIGTERM" | "SIGKILL" } = {}): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill(signal);
    // SIGTERM makes Redis fsync the AOF and exit; give it a deadline, then force it.
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };

  const up = async (): Promise<void> => {
    if (stopped) throw new Error("spawnRedis: up() after stop()");
    if (child !== undefined && child.exitCode === null && child.signalCode === null) return;
    child = await launch(port);
  };

  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    source: "spawned",
    port,
    dir,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    output: () => output.toString(),
    down,
    up,
    restart: async ({ signal, downtimeMs = 0 } = {}) => {
      await down(signal === undefined ? {} : { signal });
      if (downtimeMs > 0) await new Promise((resolve) => setTimeout(resolve, downtimeMs));
      await up();
    },
    stop: async () => {
      stopped = true;
      await down();
      if (ownsDir) {
        await rm(dir, { recursive: true, force: true });
        untrackDirectory(dir);
      }
    },
  };
}
