import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { trackChild } from "./child-reaper.ts";
import { inheritedEnv } from "./env.ts";
import { lineSplitter, OutputBuffer } from "./output-buffer.ts";

export interface SpawnServiceOptions {
  /** A line of stdout or stderr that means "ready" (default /listening|ready/i). */
  readyPattern?: RegExp;
  /** How long to wait for the ready line, in milliseconds (default 20 000). */
  timeoutMs?: number;
  /** Arguments after the script path. */
  args?: string[];
  /** Node options before the script path (e.g. V8 heap flags NODE_OPTIONS does not allow). */
  nodeArgs?: string[];
  /** Working directory (default the current one). */
  cwd?: string;
  /** How much recent output to keep, in bytes (default 1 MiB). */
  maxOutputBytes?: number;
}

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedService {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited, however that happened. */
  readonly exited: Promise<ServiceExit>;
  /** Send `signal` (default SIGTERM) and wait for the exit; SIGKILL after `timeoutMs` (default 10 000). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ServiceExit>;
  /** SIGKILL now, without waiting (a crash, for chaos tests). Await `exited` to know it is gone. */
  kill9(): void;
  /** Recent stdout and stderr, interleaved as received. */
  output(): string;
}

/**
 * Run `node <scriptPath>` (Node 24 runs .ts directly) with a minimal inherited environment plus
 * `env`, and resolve once an output line matches `readyPattern`. Rejects, with the output so far,
 * if the process exits first or the timeout passes (the process is then killed).
 */
export function spawnService(
  scriptPath: string,
  env: Record<string, string>,
  options: SpawnServiceOptions = {},
): Promise<SpawnedService> {
  const readyPattern = withoutGlobalFlags(options.readyPattern ?? /listening|ready/i);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const script = resolve(options.cwd ?? ".", scriptPath);
  const output = new OutputBuffer(options.maxOutputBytes ?? 1024 * 1024);

  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { ...inheritedEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  trackChild(child);

  const exited = new Promise<ServiceExit>((resolveExit) => {
    child.once("exit", (code, signal) => resolveExit({ code, signal }));
  });

  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const service: SpawnedService = {
    pid: child.pid ?? -1,
    child,
    exited,
    output: () => output.toString(),
    kill9: () => {
      if (running()) child.kill("SIGKILL");
    },
    stop: async (signal = "SIGTERM", stopTimeoutMs = 10_000) => {
      if (!running()) return exited;
      child.kill(signal);
      const force = setTimeout(() => child.kill("SIGKILL"), stopTimeoutMs);
      const result = await exited;
      clearTimeout(force);
      return result;
    },
  };

  return new Promise<SpawnedService>((resolveReady, rejectReady) => {
    let settled = false;
    const name = `${scriptPath} (pid ${child.pid ?? "?"})`;
    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      rejectReady(new Error(`${name} ${reason}\n--- output ---\n${output.toString()}`));
    };
    const timer = setTimeout(() => {
      fail(`printed no line matching ${readyPattern} within ${timeoutMs} ms; killed it.`);
      child.kill("SIGKILL");
    }, timeoutMs);

    const onLine = (line: string): void => {
      if (settled || !readyPattern.test(line)) return;
      settled = true;
      clearTimeout(timer);
      resolveReady(service);
    };
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding("utf8");
      const split = lineSplitter(onLine);
      stream.on("data", (chunk: string) => {
        output.append(chunk);
        split(chunk);
      });
    }
    child.once("error", (err) => fail(`could not be started: ${err.message}`));
    child.once("exit", (code, signal) => fail(`exited before it was ready (code ${code}, signal ${signal}).`));
  });
}

// A /g or /y regex keeps lastIndex between test() calls and would skip matches.
function withoutGlobalFlags(pattern: RegExp): RegExp {
  return pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, "")) : pattern;
}
