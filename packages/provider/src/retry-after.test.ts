import { describe, expect, it } from "vitest";

import { parseRetryAfter } from "./retry-after.ts";

const NOW = Date.parse("2025-01-01T00:00:00Z");

describe("parseRetryAfter", () => {
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("3", NOW)).toBe(3_000);
    expect(parseRetryAfter(" 120 ", NOW)).toBe(120_000);
    expect(parseRetryAfter("0", NOW)).toBe(0);
    expect(parseRetryAfter("1.5", NOW)).toBe(1_500);
  });

  it("reads an HTTP-date relative to now", () => {
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:10 GMT", NOW)).toBe(10_000);
    expect(parseRetryAfter("Wednesday, 01-Jan-25 00:01:00 GMT", NOW)).toBe(60_000);
  });

  it("clamps the past and negative delays to 0", () => {
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:59:00 GMT", NOW)).toBe(0);
    expect(parseRetryAfter("-5", NOW)).toBe(0);
  });

  it("returns null for garbage and absence", () => {
    expect(parseRetryAfter(null, NOW)).toBeNull();
    expect(parseRetryAfter(undefined, NOW)).toBeNull();
    expect(parseRetryAfter("", NOW)).toBeNull();
    expect(parseRetryAfter("soon", NOW)).toBeNull();
    expect(parseRetryAfter("1 2", NOW)).toBeNull();
    expect(parseRetryAfter("Someday, never", NOW)).toBeNull();
    expect(parseRetryAfter("2025-01-01", NOW)).toBeNull();
  });
});
