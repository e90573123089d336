import type { CommandSpec, OptionSpec } from "./command.ts";
import { DEFAULT_TIMEOUT_SECONDS, DEFAULT_URL } from "./config.ts";

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  url: { type: "string", value: "URL", description: `API base URL (env ACEBATCH_URL, default ${DEFAULT_URL})` },
  "api-key": { type: "string", value: "KEY", description: "API key (env ACEBATCH_API_KEY, preferred: flags are visible in ps)" },
  timeout: { type: "string", value: "SECONDS", description: `per-request timeout (env ACEBATCH_TIMEOUT, default ${DEFAULT_TIMEOUT_SECONDS})` },
  json: { type: "boolean", description: "machine output: exactly the API's JSON on stdout, errors as JSON on stderr" },
  verbose: { type: "boolean", short: "v", description: "log every request on stderr (never the key)" },
  help: { type: "boolean", short: "h", description: "show help" },
  version: { type: "boolean", description: "print the version" },
};

export const EXIT_CODE_HELP = [
  "Exit codes (those of the runcomfy CLI):",
  "  0   success",
  "  1   anything else, including a job/batch that ended failed or cancelled under --wait",
  "  64  bad command line: unknown command or flag, missing argument, bad flag value",
  "  65  input rejected: invalid --input (JSON or schema), HTTP 400/404/409/413/422 and other 4xx",
  "  69  API unavailable: HTTP 5xx or the API cannot be reached",
  "  75  temporary: HTTP 429/408 or a timeout (the message gives Retry-After)",
  "  77  not permitted: no API key, HTTP 401/403",
];

function usageLine(spec: CommandSpec): string {
  const pos = spec.positionals.map((p) => (p.endsWith("?") ? `[${p.slice(0, -1)}]` : `<${p}>`));
  return [...spec.path, ...pos].join(" ");
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.value}` : ""}`;
    return [flag, o.description] as const;
  });
  const width = Math.max(0, ...rows.map(([flag]) => flag.length));
  return rows.map(([flag, desc]) => `  ${flag.padEnd(width)}  ${desc}`);
}

export function topLevelHelp(commands: CommandSpec[]): string {
  const rows = commands.map((c) => [usageLine(c), c.summary] as const);
  const width = Math.max(...rows.map(([u]) => u.length));
  return [
    "acebatch: command-line client of the acebatch API (ACE Step music jobs on the RunComfy Model API)",
    "",
    "Usage: acebatch <command> [options]      (acebatch <command> --help for its options)",
    "",
    "Commands:",
    ...rows.map(([u, s]) => `  ${u.padEnd(width)}  ${s}`),
    "",
    "Global options:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    ...EXIT_CODE_HELP,
    "",
  ].join("\n");
}

export function groupHelp(group: string, commands: CommandSpec[]): string {
  const rows = commands.map((c) => [usageLine(c), c.summary] as const);
  const width = Math.max(...rows.map(([u]) => u.length));
  return [
    `Usage: acebatch ${group} <subcommand> [options]`,
    "",
    "Subcommands:",
    ...rows.map(([u, s]) => `  ${u.padEnd(width)}  ${s}`),
    "",
    `Run acebatch ${group} <subcommand> --help for its options.`,
    "",
  ].join("\n");
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: acebatch ${usageLine(spec)} [options]`, "", spec.summary.charAt(0).toUpperCase() + spec.summary.slice(1) + "."];
  if (Object.keys(spec.options).length > 0) lines.push("", "Options:", ...optionLines(spec.options));
  lines.push("", "Global options:", ...optionLines(GLOBAL_OPTIONS));
  if (spec.notes?.length) lines.push("", ...spec.notes);
  lines.push("", ...EXIT_CODE_HELP, "");
  return lines.join("\n");
}
