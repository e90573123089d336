// The only file of @acebatch/cli that reads process.env (a project check enforces this); everything
// else receives the environment as a plain object, so tests can run the CLI in-process.
import { usageError } from "./exit-codes.ts";

export const DEFAULT_URL = "http://127.0.0.1:8080";
/** Per-request timeout when neither `--timeout` nor `ACEBATCH_TIMEOUT` says otherwise, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 30;

export type Env = Readonly<Record<string, string | undefined>>;

/** This process's environment, for `main.ts`. */
export function readProcessEnv(): Env {
  return process.env;
}

export interface ConfigFlags {
  url?: string | undefined;
  apiKey?: string | undefined;
  timeout?: string | undefined;
}

export interface CliConfig {
  /** API origin without a trailing slash or `/v1`, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Bearer key; undefined when none was given (commands that need one exit 77). */
  apiKey: string | undefined;
  /** Per-request timeout in milliseconds. */
  timeoutMs: number;
}

/** Flags override `ACEBATCH_URL`, `ACEBATCH_API_KEY` and `ACEBATCH_TIMEOUT`; bad values are usage errors (64). */
export function resolveConfig(env: Env, flags: ConfigFlags): CliConfig {
  const urlSource = flags.url !== undefined ? "--url" : "ACEBATCH_URL";
  const baseUrl = parseBaseUrl(flags.url ?? nonEmpty(env.ACEBATCH_URL) ?? DEFAULT_URL, urlSource);
  const apiKey = nonEmpty(flags.apiKey) ?? nonEmpty(env.ACEBATCH_API_KEY);
  const timeoutSource = flags.timeout !== undefined ? "--timeout" : "ACEBATCH_TIMEOUT";
  const timeoutRaw = flags.timeout ?? nonEmpty(env.ACEBATCH_TIMEOUT);
  const timeoutSeconds = timeoutRaw === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(timeoutRaw);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 3600) {
    throw usageError(`${timeoutSource} must be a number of seconds between 0 and 3600, got "${timeoutRaw}"`);
  }
  return { baseUrl, apiKey, timeoutMs: Math.round(timeoutSeconds * 1000) };
}

function parseBaseUrl(raw: string, source: string): string {
  if (!URL.canParse(raw)) throw usageError(`${source} is not a URL: "${raw}" (expected e.g. ${DEFAULT_URL})`);
  const url = new URL(raw);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(`${source} must be an http:// or https:// URL, got "${url.protocol}"`);
  }
  // Credentials in the URL would end up in error messages; the key belongs in ACEBATCH_API_KEY.
  if (url.username || url.password) {
    throw usageError(`${source} must not contain credentials; put the key in ACEBATCH_API_KEY`);
  }
  // Tolerate a pasted `/v1` suffix: every route the client calls already starts with /v1.
  const path = url.pathname.replace(/\/+$/, "").replace(/\/v1$/, "");
  return `${url.origin}${path}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}
