import { describe, expect, it } from "vitest";
import { canonicalTimezone, periodWindow, slotRanges } from "./periods.ts";

const NY = "America/New_York";
const hours = (w: { startsAt: Date | null; resetsAt: Date | null }) => (w.resetsAt!.getTime() - w.startsAt!.getTime()) / 3_600_000;

describe("periodWindow", () => {
  it("runs a day from local midnight to local midnight", () => {
    const w = periodWindow("day", NY, new Date("2026-11-24T04:59:00Z")); // 23:59 on the 23rd in New York
    expect(w).toEqual({
      key: "d:2026-11-23@America/New_York",
      startsAt: new Date("2026-11-23T05:00:00Z"),
      resetsAt: new Date("2026-11-24T05:00:00Z"),
    });
    expect(periodWindow("day", NY, new Date("2026-11-24T05:00:00Z")).key).toBe("d:2026-11-24@America/New_York");
  });

  it("gives DST-change days 23 and 25 hours", () => {
    expect(hours(periodWindow("day", NY, new Date("2026-03-08T12:00:00Z")))).toBe(23);
    expect(hours(periodWindow("day", NY, new Date("2026-11-01T12:00:00Z")))).toBe(25);
    expect(hours(periodWindow("day", "UTC", new Date("2026-03-08T12:00:00Z")))).toBe(24);
  });

  it("runs a month from the 1st at local midnight", () => {
    const w = periodWindow("month", "Asia/Tokyo", new Date("2026-01-31T15:30:00Z")); // Feb 1, 00:30 in Tokyo
    expect(w).toEqual({ key: "m:2026-02@Asia/Tokyo", startsAt: new Date("2026-01-31T15:00:00Z"), resetsAt: new Date("2026-02-28T15:00:00Z") });
  });

  it("has a single endless period for none", () => {
    expect(periodWindow("none", NY, new Date())).toEqual({ key: "all", startsAt: null, resetsAt: null });
  });
});

describe("canonicalTimezone", () => {
  it("accepts IANA names in their canonical spelling and names a bad one", () => {
    expect(canonicalTimezone("utc")).toBe("UTC");
    expect(canonicalTimezone(NY)).toBe(NY);
    expect(() => canonicalTimezone("Mars/Olympus")).toThrow(/unknown timezone "Mars\/Olympus"/);
    expect(() => canonicalTimezone("")).toThrow(/unknown timezone/);
  });
});

describe("slotRanges", () => {
  it("covers a window in 15-minute UTC slots grouped by day", () => {
    expect(slotRanges(new Date("2026-11-23T05:00:00Z"), new Date("2026-11-24T00:20:00Z"))).toEqual([
      ["2026-11-23", 20, 95],
      ["2026-11-24", 0, 1],
    ]);
  });
});
