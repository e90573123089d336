import { MAX_SEED } from "@acebatch/contracts";

const NUMERIC = /^\s*\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\s*$/;

/** `cost` as RunComfy reports it (a number or a numeric string, USD); null when absent or not a sane amount. */
export function parseCostUsd(value: unknown): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" && NUMERIC.test(value) ? Number(value) : Number.NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** A seed the provider reports (number or integer string within 0…MAX_SEED), else null. */
export function parseSeed(value: unknown): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\s*\d{1,10}\s*$/.test(value) ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n >= 0 && n <= MAX_SEED ? n : null;
}

/** A timestamp as an ISO-8601 string: strings pass through (bounded), epoch seconds or ms are converted. */
export function parseTimestamp(value: unknown): string | null {
  if (typeof value === "string") {
    const trimmed = value.trim();
    return trimmed === "" ? null : trimmed.slice(0, 64);
  }
  if (typeof value === "number" && Number.isFinite(value) && value > 0) {
    const ms = value < 1e12 ? value * 1000 : value;
    const date = new Date(ms);
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
  }
  return null;
}

/** The remote error of a failed request as text: a string, or `{message}` / `{error_message}` / `{detail}`. */
export function parseRemoteError(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value.trim() === "" ? null : value.trim().slice(0, 1_000);
  if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    for (const key of ["error_message", "message", "detail"]) {
      const text = record[key];
      if (typeof text === "string" && text.trim() !== "") return text.trim().slice(0, 1_000);
    }
  }
  const json = JSON.stringify(value);
  return json === undefined ? null : json.slice(0, 1_000);
}
