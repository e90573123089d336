import { MAX_MICRO_USD } from "./types.ts";

/** Throw a RangeError unless `value` is a whole number of micro-dollars in 0…MAX_MICRO_USD. */
export function assertMicroUsd(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_MICRO_USD) {
    throw new RangeError(`${name} must be a whole number of micro-dollars between 0 and ${MAX_MICRO_USD}, got ${value}`);
  }
}

/** Throw a TypeError unless `jobId` is a usable key part. */
export function assertJobId(jobId: string): void {
  if (typeof jobId !== "string" || jobId.length === 0 || jobId.length > 256 || /\s/.test(jobId)) {
    throw new TypeError(`job id must be 1–256 characters without whitespace, got ${JSON.stringify(jobId)}`);
  }
}

/** Seconds as integer milliseconds (sums stay exact); throws on a negative or non-finite value. */
export function secondsToMs(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`seconds must be a finite number ≥ 0, got ${seconds}`);
  return Math.round(seconds * 1000);
}

/** A stored integer (Redis hash field) as a number; missing = 0. */
export function int(value: string | undefined | null): number {
  return value === undefined || value === null || value === "" ? 0 : Number(value);
}
