import type { Readable } from "node:stream";
import type { CliConfig } from "./config.ts";
import { usageError } from "./exit-codes.ts";
import type { ApiClient } from "./http-client.ts";
import type { Output } from "./output.ts";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Placeholder in help, e.g. `DIR`. */
  value?: string;
  description: string;
}

export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface ParsedCommand {
  values: Values;
  /** Positionals after the command words. */
  args: string[];
}

export interface CommandContext {
  out: Output;
  api: ApiClient;
  config: CliConfig;
  /** Aborted on Ctrl-C: waits stop and report where things stand. */
  signal: AbortSignal | undefined;
  /** Standard input, for `--input @-`; a function so it is opened only when read. */
  stdin: (() => Readable) | undefined;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number): Promise<void>;
  /** First poll delay of `--wait` loops, in milliseconds (tests shorten it). */
  pollMs: number;
}

export interface CommandSpec {
  /** The command words, e.g. `["jobs", "list"]`. */
  path: string[];
  summary: string;
  /** Positional names for help; a trailing `?` marks an optional one. */
  positionals: string[];
  options: Record<string, OptionSpec>;
  /** Extra help paragraphs (examples, notes). */
  notes?: string[];
  run(ctx: CommandContext, parsed: ParsedCommand): Promise<number>;
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

export function bool(values: Values, name: string): boolean {
  return values[name] === true;
}

export function requireStr(values: Values, name: string): string {
  const v = str(values, name);
  if (v === undefined || v === "") throw usageError(`missing --${name}`);
  return v;
}

/** A flag that must be one of `choices` (a bad value is a usage error). */
export function choice<T extends string>(values: Values, name: string, choices: readonly T[]): T | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) {
    throw usageError(`--${name} must be one of ${choices.join(", ")}; got "${v}"`);
  }
  return v as T;
}

/**
 * A numeric flag within bounds (a bad value is a usage error): `min`/`max` inclusive, `above`
 * exclusive (`above: 0` for amounts that must be positive).
 */
export function num(values: Values, name: string, opts: { min?: number; above?: number; max?: number; integer?: boolean } = {}): number | undefined {
  const raw = str(values, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  const bad =
    raw.trim() === "" ||
    !Number.isFinite(n) ||
    (opts.integer && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min) ||
    (opts.above !== undefined && n <= opts.above) ||
    (opts.max !== undefined && n > opts.max);
  if (bad) {
    const range = [
      opts.min !== undefined ? `>= ${opts.min}` : "",
      opts.above !== undefined ? `> ${opts.above}` : "",
      opts.max !== undefined ? `<= ${opts.max}` : "",
    ]
      .filter(Boolean)
      .join(" and ");
    throw usageError(`--${name} must be ${opts.integer ? "a whole number" : "a number"}${range ? ` ${range}` : ""}; got "${raw}"`);
  }
  return n;
}
