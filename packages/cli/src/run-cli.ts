import type { Readable } from "node:stream";
import { parseArgs } from "node:util";
import pkg from "../package.json" with { type: "json" };
import { type CommandContext, type CommandSpec, type OptionSpec, type Values } from "./command.ts";
import { batchCommands } from "./commands/batch.ts";
import { budgetCommands } from "./commands/budget.ts";
import { jobCommands } from "./commands/jobs.ts";
import { scheduleCommands } from "./commands/schedule.ts";
import { submitCommand } from "./commands/submit.ts";
import { resolveConfig, type Env } from "./config.ts";
import { CliError, EXIT, usageError } from "./exit-codes.ts";
import { GLOBAL_OPTIONS, commandHelp, groupHelp, topLevelHelp } from "./help.ts";
import { createApiClient } from "./http-client.ts";
import { Output, type TextSink } from "./output.ts";

export const COMMANDS: CommandSpec[] = [submitCommand, ...jobCommands, ...batchCommands, ...scheduleCommands, ...budgetCommands];

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  env: Env;
  /** Whether stderr is a terminal: progress is then redrawn on one line. */
  isTTY: boolean;
  /** Standard input, opened only when a command reads `@-`. */
  stdin?: () => Readable;
  /** Aborted on Ctrl-C. */
  signal?: AbortSignal;
  /** First delay between polls under --wait, in milliseconds (default 500). */
  pollMs?: number;
}

const DEFAULT_POLL_MS = 500;
const GLOBAL_VALUE_FLAGS = new Set(
  Object.entries(GLOBAL_OPTIONS)
    .filter(([, o]) => o.type === "string")
    .map(([name]) => `--${name}`),
);

/** The leading command words, skipping global flags (and the values of global flags that take one). */
function commandWords(argv: string[], max = 2): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < max; i++) {
    const token = argv[i]!;
    if (token === "--") break;
    if (token.startsWith("-")) {
      if (GLOBAL_VALUE_FLAGS.has(token)) i++;
      // A command's own flag before the subcommand: stop, the full parse below will complain.
      else if (words.length > 0 && !isGlobalBoolean(token)) break;
      continue;
    }
    words.push(token);
    if (words.length === 1 && max === 2 && COMMANDS.some((c) => c.path.length === 1 && c.path[0] === token)) break;
  }
  return words;
}

function isGlobalBoolean(token: string): boolean {
  return ["--json", "--verbose", "-v", "--help", "-h", "--version"].includes(token);
}

function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((t) => t === "--help" || t === "-h");
}

function toParseArgsOptions(options: Record<string, OptionSpec>) {
  return Object.fromEntries(
    Object.entries(options).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
  );
}

function sleeper(signal: AbortSignal | undefined) {
  return (ms: number) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    });
}

/**
 * Run the CLI with `argv` (without `node` and the script) and return the exit code. Never calls
 * process.exit and never reads the environment itself (io.env): tests run it in-process.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  // The key must not appear in anything printed, not even in an echo of a bad flag.
  const secrets = [io.env.ACEBATCH_API_KEY?.trim() ?? "", ...argv.filter((_, i) => argv[i - 1] === "--api-key"), ...argv.filter((a) => a.startsWith("--api-key=")).map((a) => a.slice(10))];
  let out = new Output({ stdout: io.stdout, stderr: io.stderr, json: argv.includes("--json"), isTTY: io.isTTY, verbose: false, secrets });
  try {
    const words = commandWords(argv);
    const help = wantsHelp(argv);
    if (words.length === 0) {
      if (argv.includes("--version")) {
        out.raw(`${pkg.version}\n`);
        return EXIT.ok;
      }
      if (help) {
        out.raw(topLevelHelp(COMMANDS));
        return EXIT.ok;
      }
      out.writeErr(topLevelHelp(COMMANDS));
      throw usageError("missing command");
    }
    if (words[0] === "help") return helpFor(commandWords(argv, 3).slice(1), out);

    const group = COMMANDS.filter((c) => c.path[0] === words[0]);
    if (group.length === 0) throw usageError(`unknown command "${words[0]}"`, ["run acebatch --help for the list of commands"]);
    const spec = group.find((c) => c.path.length === 1 || c.path[1] === words[1]);
    if (!spec) {
      if (help && words.length === 1) {
        out.raw(groupHelp(words[0]!, group));
        return EXIT.ok;
      }
      const subs = group.map((c) => c.path[1]).join(", ");
      throw usageError(words[1] === undefined ? `missing subcommand: acebatch ${words[0]} <${subs}>` : `unknown subcommand "${words[0]} ${words[1]}"`, [
        `subcommands: ${subs}`,
      ]);
    }
    if (help) {
      out.raw(commandHelp(spec));
      return EXIT.ok;
    }

    let parsed: { values: Values; positionals: string[] };
    try {
      parsed = parseArgs({ args: argv, options: toParseArgsOptions({ ...GLOBAL_OPTIONS, ...spec.options }), allowPositionals: true, strict: true }) as typeof parsed;
    } catch (err) {
      // Node's text goes on about `--` for positionals that start with a dash; the first sentence is the point.
      const message = (err as Error).message.split("\n")[0]!.split(". To specify")[0]!.replace(/^Unknown option/, "unknown option");
      throw usageError(message, [`see acebatch ${spec.path.join(" ")} --help`]);
    }
    const { values, positionals } = parsed;
    out = new Output({ stdout: io.stdout, stderr: io.stderr, json: values.json === true, isTTY: io.isTTY, verbose: values.verbose === true, secrets });
    if (spec.path.some((w, i) => positionals[i] !== w)) {
      throw usageError(`put the options after "acebatch ${spec.path.join(" ")}"`, [`see acebatch ${spec.path.join(" ")} --help`]);
    }
    const args = positionals.slice(spec.path.length);
    const required = spec.positionals.filter((p) => !p.endsWith("?"));
    if (args.length < required.length) {
      throw usageError(`missing <${required[args.length]}>: acebatch ${spec.path.join(" ")} ${spec.positionals.map((p) => `<${p}>`).join(" ")}`, [
        `see acebatch ${spec.path.join(" ")} --help`,
      ]);
    }
    if (args.length > spec.positionals.length) throw usageError(`unexpected argument "${args[spec.positionals.length]}"`, [`see acebatch ${spec.path.join(" ")} --help`]);

    const config = resolveConfig(io.env, {
      url: typeof values.url === "string" ? values.url : undefined,
      apiKey: typeof values["api-key"] === "string" ? values["api-key"] : undefined,
      timeout: typeof values.timeout === "string" ? values.timeout : undefined,
    });
    const verboseOut = out;
    const api = createApiClient({ baseUrl: config.baseUrl, apiKey: config.apiKey, timeoutMs: config.timeoutMs, signal: io.signal, log: (line) => verboseOut.verbose(line) });
    const ctx: CommandContext = { out, api, config, signal: io.signal, stdin: io.stdin, sleep: sleeper(io.signal), pollMs: io.pollMs ?? DEFAULT_POLL_MS };
    return await spec.run(ctx, { values, args });
  } catch (err) {
    if (err instanceof CliError) {
      out.error(err);
      return err.exitCode;
    }
    out.error(new CliError(EXIT.failure, `unexpected error: ${err instanceof Error ? err.message : String(err)}`, { code: "internal" }));
    return EXIT.failure;
  }
}

function helpFor(words: string[], out: Output): number {
  const group = COMMANDS.filter((c) => c.path[0] === words[0]);
  const spec = group.find((c) => c.path.length === 1 || c.path[1] === words[1]);
  if (spec) out.raw(commandHelp(spec));
  else if (group.length > 0) out.raw(groupHelp(words[0]!, group));
  else if (words.length === 0) out.raw(topLevelHelp(COMMANDS));
  else throw usageError(`unknown command "${words.join(" ")}"`, ["run acebatch --help for the list of commands"]);
  return EXIT.ok;
}
