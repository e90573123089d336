import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** A `pnpm start:*` script taken apart: its leading `VAR=value` environment and its Node flags. */
export interface StartCommand {
  env: Record<string, string>;
  nodeArgs: string[];
}

/**
 * `pnpm <script>` (package.json) taken apart: `VAR=value` words before `node` become the
 * environment, the words between `node` and `scriptPath` the Node flags, so a benchmark starts a
 * service exactly as users do.
 */
export function startCommand(script: string, scriptPath: string): StartCommand {
  const manifest = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../package.json"), "utf8")) as { scripts: Record<string, string> };
  const text = manifest.scripts[script];
  if (!text) throw new Error(`package.json has no "${script}" script`);
  const words = text.trim().split(/\s+/);
  const node = words.indexOf("node");
  const at = words.indexOf(scriptPath);
  if (node < 0 || at < node) throw new Error(`${script} is not "[VAR=value ...] node [flags] ${scriptPath}": ${text}`);
  const env: Record<string, string> = {};
  for (const word of words.slice(0, node)) {
    const eq = word.indexOf("=");
    if (eq <= 0) throw new Error(`${script}: "${word}" before node is not VAR=value`);
    env[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return { env, nodeArgs: words.slice(node + 1, at) };
}

/** `pnpm start:worker`, or its flags replaced by BENCH_WORKER_NODE_ARGS (space-separated) for experiments. */
export function workerStartCommand(): StartCommand {
  const command = startCommand("start:worker", "services/worker/src/main.ts");
  const override = process.env.BENCH_WORKER_NODE_ARGS;
  return override === undefined ? command : { env: command.env, nodeArgs: override.split(/\s+/).filter(Boolean) };
}

/** The command line a benchmark ran, for its JSON details. */
export function describeCommand(command: StartCommand, scriptPath: string): string {
  return [...Object.entries(command.env).map(([k, v]) => `${k}=${v}`), "node", ...command.nodeArgs, scriptPath].join(" ");
}
