import { spawn } from "node:child_process";
import { executableSearchPath } from "./env.ts";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { basename, delimiter, isAbsolute, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import { FinishError } from "./finish-error.ts";

/** Absolute paths of the two programs the toolchain drives. */
export interface FfmpegTools {
  ffmpeg: string;
  ffprobe: string;
}

/** Options shared by every public function that runs ffmpeg. */
export interface ToolOptions {
  /**
   * Internal (tests): the PATH-style directory list searched for ffmpeg/ffprobe instead of the
   * process's PATH.
   */
  ffmpegPath?: string;
  /** Cancels the running ffmpeg (killed) and rejects with the signal's reason. */
  signal?: AbortSignal;
}

export const INSTALL_HINT = "install it with `apt-get install ffmpeg` (Debian/Ubuntu; the package also provides ffprobe)";

// Everything finishAudio/measureLoudness/waveformPeaks use; Debian's ffmpeg has them all.
const REQUIRED_FILTERS = ["afade", "aloop", "apad", "aresample", "atrim", "ebur128", "loudnorm"];
const REQUIRED_ENCODERS = ["flac", "libmp3lame", "libvorbis", "pcm_f32le", "pcm_s16le"];

async function findExecutable(name: string, searchPath: string): Promise<string | null> {
  for (const dir of searchPath.split(delimiter)) {
    if (dir === "" || !isAbsolute(dir)) continue; // a relative PATH entry would depend on the cwd
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Find ffmpeg and ffprobe on the PATH; throws FinishError("ffmpeg_missing") naming the fix. */
export async function resolveTools(options: Pick<ToolOptions, "ffmpegPath"> = {}): Promise<FfmpegTools> {
  // A plain PATH lookup, as spawn would do: there is deliberately no FFMPEG_BIN-style setting.
  const searchPath = options.ffmpegPath ?? executableSearchPath();
  const [ffmpeg, ffprobe] = await Promise.all([findExecutable("ffmpeg", searchPath), findExecutable("ffprobe", searchPath)]);
  const missing = [ffmpeg === null ? "ffmpeg" : null, ffprobe === null ? "ffprobe" : null].filter((n) => n !== null);
  if (ffmpeg === null || ffprobe === null) {
    throw new FinishError(
      "ffmpeg_missing",
      `${missing.join(" and ")} not found on PATH (${searchPath || "empty"}): audio finishing needs ffmpeg; ${INSTALL_HINT}`,
    );
  }
  return { ffmpeg, ffprobe };
}

/**
 * Check at start-up that ffmpeg and ffprobe are installed and have the filters and encoders the
 * finishing toolchain uses. Returns the ffmpeg path and version; throws FinishError("ffmpeg_missing").
 */
export async function checkFfmpeg(options: ToolOptions = {}): Promise<{ ffmpeg: string; ffprobe: string; version: string }> {
  const tools = await resolveTools(options);
  const run = (args: string[]) => runTool(tools.ffmpeg, ["-hide_banner", ...args], { signal: options.signal, timeoutMs: 15_000 });
  const [versionOut, filtersOut, encodersOut] = await Promise.all([run(["-version"]), run(["-filters"]), run(["-encoders"])]);
  const version = /version\s+(\S+)/.exec(versionOut.stdout.toString("utf8"))?.[1] ?? "unknown";
  const listed = (text: string, column: number) =>
    new Set(text.split("\n").map((line) => line.trim().split(/\s+/)[column]).filter((n): n is string => n !== undefined));
  const filters = listed(filtersOut.stdout.toString("utf8"), 1);
  const encoders = listed(encodersOut.stdout.toString("utf8"), 1);
  const lacking = [
    ...REQUIRED_FILTERS.filter((f) => !filters.has(f)).map((f) => `filter ${f}`),
    ...REQUIRED_ENCODERS.filter((e) => !encoders.has(e)).map((e) => `encoder ${e}`),
  ];
  if (lacking.length > 0) {
    throw new FinishError("ffmpeg_missing", `${tools.ffmpeg} (${version}) lacks ${lacking.join(", ")}; ${INSTALL_HINT}`);
  }
  return { ffmpeg: tools.ffmpeg, ffprobe: tools.ffprobe, version };
}

export interface RunOptions {
  signal?: AbortSignal | undefined;
  /** Kill the process after this long; default 10 minutes. */
  timeoutMs?: number;
  /** Bytes (or a stream of them) written to the process's stdin, which is closed after. */
  stdin?: Uint8Array | AsyncIterable<Uint8Array>;
  /** Receives stdout as it arrives (decoded PCM), instead of collecting it. */
  onStdout?: (chunk: Buffer) => void;
  /** Collected stdout larger than this fails the run; default 4 MiB. */
  maxStdoutBytes?: number;
}

export interface RunResult {
  /** Collected stdout (empty when `onStdout` consumed it). */
  stdout: Buffer;
  /** The last 64 KiB of stderr: where ffmpeg prints its summaries (loudnorm JSON, ebur128). */
  stderr: string;
}

const STDERR_KEEP_BYTES = 64 * 1024;
const STDERR_IN_MESSAGE = 2_000;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/**
 * Run ffmpeg/ffprobe with an argument array (never a shell), a timeout and an AbortSignal; stderr
 * is kept (bounded) and its tail goes into the error when the program fails.
 */
export function runTool(binary: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  options.signal?.throwIfAborted();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const name = basename(binary);
  const maxStdout = options.maxStdoutBytes ?? 4 * 1024 * 1024;

  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(binary, args, { stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stderr = Buffer.alloc(0);
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let failure: Error | null = null;
    const fail = (err: Error): void => {
      failure ??= err;
      child.kill("SIGKILL");
    };
    const onAbort = (): void => {
      fail(
        timeout.aborted
          ? new FinishError("ffmpeg_timeout", `${name} was killed after ${timeoutMs / 1000} s: ${args.join(" ")}`)
          : (options.signal?.reason as Error),
      );
    };
    signal.addEventListener("abort", onAbort, { once: true });

    child.stderr!.on("data", (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_KEEP_BYTES) stderr = stderr.subarray(stderr.length - STDERR_KEEP_BYTES);
    });
    child.stdout!.on("data", (chunk: Buffer) => {
      if (failure !== null) return;
      if (options.onStdout) {
        try {
          options.onStdout(chunk);
        } catch (err) {
          fail(err as Error);
        }
        return;
      }
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) fail(new FinishError("ffmpeg_failed", `${name} wrote more than ${maxStdout} bytes to stdout`));
      else stdoutChunks.push(chunk);
    });
    if (child.stdin && options.stdin !== undefined) {
      const source = options.stdin instanceof Uint8Array ? [options.stdin] : options.stdin;
      // EPIPE when ffmpeg exits early is expected: its exit status and stderr say why.
      pipeline(Readable.from(source, { objectMode: false }), child.stdin).catch(() => undefined);
    }
    child.on("error", (err: NodeJS.ErrnoException) => {
      failure ??=
        err.code === "ENOENT"
          ? new FinishError("ffmpeg_missing", `${binary} not found: ${INSTALL_HINT}`, { cause: err })
          : new FinishError("ffmpeg_failed", `${name} could not be started: ${err.message}`, { cause: err });
    });
    child.on("close", (code, killedBy) => {
      signal.removeEventListener("abort", onAbort);
      const stderrText = stderr.toString("utf8");
      if (failure !== null) return reject(failure);
      if (code !== 0) {
        const tail = stderrText.trim().slice(-STDERR_IN_MESSAGE);
        return reject(
          new FinishError("ffmpeg_failed", `${name} ${args.join(" ")} failed (${killedBy ?? `exit code ${code}`}): ${tail}`),
        );
      }
      resolve({ stdout: Buffer.concat(stdoutChunks), stderr: stderrText });
    });
  });
}

/** The leading arguments of every ffmpeg run: quiet banner, no progress, fail on bad input. */
export const FFMPEG_BASE_ARGS: readonly string[] = ["-hide_banner", "-nostats", "-nostdin", "-y"];
