import { defaultRepeatStrategy } from "bullmq";
import { describe, expect, it } from "vitest";
import { parseCron } from "./cron.ts";
import { nextCronRun, nextRunTimes, scheduleRepeatStrategy, toFireTimes, type Timing } from "./next-runs.ts";
import { fromNaiveMs, resolveLocal } from "./zoned-time.ts";

const NY = "America/New_York";
const cron = (expression: string, timezone = NY): Timing => ({ kind: "cron", cron: expression, timezone });
const at = (iso: string) => Date.parse(iso);
const runsOn = (times: number[], localDate: string) => toFireTimes(NY, times).filter((t) => t.local.startsWith(localDate));

describe("next_runs across DST in America/New_York (fixed clock)", () => {
  it("runs a time that does not exist (02:30 on 2027-03-14) once, at 03:00 EDT, the first instant after the gap", () => {
    const clock = at("2027-03-12T12:00:00Z");
    const runs = nextRunTimes(cron("30 2 * * *"), clock, 5);
    expect(toFireTimes(NY, runs)).toEqual([
      { local: "2027-03-13T02:30:00-05:00", utc: "2027-03-13T07:30:00.000Z" },
      { local: "2027-03-14T03:00:00-04:00", utc: "2027-03-14T07:00:00.000Z" },
      { local: "2027-03-15T02:30:00-04:00", utc: "2027-03-15T06:30:00.000Z" },
      { local: "2027-03-16T02:30:00-04:00", utc: "2027-03-16T06:30:00.000Z" },
      { local: "2027-03-17T02:30:00-04:00", utc: "2027-03-17T06:30:00.000Z" },
    ]);
    expect(runsOn(runs, "2027-03-14")).toHaveLength(1);
  });

  it("runs a time that exists twice (01:30 on 2027-11-07) once, at its first occurrence (EDT)", () => {
    const clock = at("2027-11-05T12:00:00Z");
    const runs = nextRunTimes(cron("30 1 * * *"), clock, 5);
    expect(toFireTimes(NY, runs)).toEqual([
      { local: "2027-11-06T01:30:00-04:00", utc: "2027-11-06T05:30:00.000Z" },
      { local: "2027-11-07T01:30:00-04:00", utc: "2027-11-07T05:30:00.000Z" },
      { local: "2027-11-08T01:30:00-05:00", utc: "2027-11-08T06:30:00.000Z" },
      { local: "2027-11-09T01:30:00-05:00", utc: "2027-11-09T06:30:00.000Z" },
      { local: "2027-11-10T01:30:00-05:00", utc: "2027-11-10T06:30:00.000Z" },
    ]);
    expect(runsOn(runs, "2027-11-07")).toHaveLength(1);
  });

  it("does not run the repeated 01:30 again when asked from inside the repeated hour (after the first one ran)", () => {
    // 06:10Z is 01:10 EST: the second pass of the repeated hour. The first 01:30 (05:30Z) has run.
    expect(new Date(nextCronRun("30 1 * * *", NY, at("2027-11-07T06:10:00Z"))!).toISOString()).toBe("2027-11-08T06:30:00.000Z");
    // Just after the first 01:30 ran, the next is tomorrow's, never 01:30 EST.
    expect(new Date(nextCronRun("30 1 * * *", NY, at("2027-11-07T05:30:00Z"))!).toISOString()).toBe("2027-11-08T06:30:00.000Z");
  });

  it("fires each wall-clock time at most once: an hourly cron skips the repeated 01:00 and collapses the skipped 02:00", () => {
    const fall = toFireTimes(NY, nextRunTimes(cron("0 * * * *"), at("2027-11-07T03:30:00Z"), 4)).map((t) => t.local);
    expect(fall).toEqual(["2027-11-07T00:00:00-04:00", "2027-11-07T01:00:00-04:00", "2027-11-07T02:00:00-05:00", "2027-11-07T03:00:00-05:00"]);
    const spring = toFireTimes(NY, nextRunTimes(cron("0 * * * *"), at("2027-03-14T05:30:00Z"), 3)).map((t) => t.local);
    expect(spring).toEqual(["2027-03-14T01:00:00-05:00", "2027-03-14T03:00:00-04:00", "2027-03-14T04:00:00-04:00"]);
    // Several skipped times in one gap make one run.
    const gap = nextRunTimes(cron("*/20 2 * * *"), at("2027-03-14T05:00:00Z"), 2);
    expect(toFireTimes(NY, gap).map((t) => t.local)).toEqual(["2027-03-14T03:00:00-04:00", "2027-03-15T02:00:00-04:00"]);
  });

  it("handles 6-field (seconds) crons through the gap without repeating", () => {
    const runs = nextRunTimes(cron("*/20 59 1 * * *"), at("2027-11-07T05:58:00Z"), 4);
    expect(toFireTimes(NY, runs).map((t) => t.local)).toEqual([
      "2027-11-07T01:59:00-04:00",
      "2027-11-07T01:59:20-04:00",
      "2027-11-07T01:59:40-04:00",
      "2027-11-08T01:59:00-05:00",
    ]);
  });

  it("shows interval runs on their grid, strictly after the clock", () => {
    const timing: Timing = { kind: "every", everySeconds: 2, anchorMs: 1_000_000, timezone: "UTC" };
    expect(nextRunTimes(timing, 0, 3)).toEqual([1_000_000, 1_002_000, 1_004_000]);
    expect(nextRunTimes(timing, 1_003_000, 2)).toEqual([1_004_000, 1_006_000]);
    expect(nextRunTimes(timing, 1_004_000, 1)).toEqual([1_006_000]);
  });
});

describe("BullMQ's own cron (cron-parser) versus our policy", () => {
  // Why BullMQ gets our repeat strategy: its default does something else in both DST cases.
  it("differs at spring-forward and fall-back, so the schedules queue uses scheduleRepeatStrategy", async () => {
    const spring = { pattern: "30 2 * * *", tz: NY };
    const bullmqSpring = await defaultRepeatStrategy(at("2027-03-14T05:00:00Z"), spring);
    expect(new Date(bullmqSpring!).toISOString()).toBe("2027-03-14T07:30:00.000Z"); // 03:30 EDT
    expect(new Date(scheduleRepeatStrategy(at("2027-03-14T05:00:00Z"), spring)!).toISOString()).toBe("2027-03-14T07:00:00.000Z"); // 03:00 EDT

    const hourly = { pattern: "0 * * * *", tz: NY };
    const bullmqFall = await defaultRepeatStrategy(at("2027-11-07T05:00:00Z"), hourly);
    expect(new Date(bullmqFall!).toISOString()).toBe("2027-11-07T06:00:00.000Z"); // 01:00 EST, a second 01:00
    expect(new Date(scheduleRepeatStrategy(at("2027-11-07T05:00:00Z"), hourly)!).toISOString()).toBe("2027-11-07T07:00:00.000Z"); // 02:00 EST

    // Both agree that a daily 01:30 runs at the first 01:30 only.
    const daily = { pattern: "30 1 * * *", tz: NY };
    expect(await defaultRepeatStrategy(at("2027-11-07T04:00:00Z"), daily)).toBe(scheduleRepeatStrategy(at("2027-11-07T04:00:00Z"), daily));
  });

  it("matches next_runs exactly, run after run, the way BullMQ chains them", () => {
    const timing = cron("30 2 * * *");
    let millis = at("2027-03-10T00:00:00Z");
    const chained: number[] = [];
    for (let i = 0; i < 10; i++) {
      millis = scheduleRepeatStrategy(millis, { pattern: "30 2 * * *", tz: NY })!;
      chained.push(millis);
    }
    expect(chained).toEqual(nextRunTimes(timing, at("2027-03-10T00:00:00Z"), 10));
  });
});

describe("next runs against a brute-force reading of the policy", () => {
  // Every matching wall-clock minute, mapped by the policy (gap → gap end, repeated → first
  // instant), deduplicated: that is the definition; the search must produce exactly that.
  const matches = (c: ReturnType<typeof parseCron>, l: { month: number; day: number; hour: number; minute: number; year: number }) => {
    const dow = new Date(Date.UTC(l.year, l.month - 1, l.day)).getUTCDay();
    const dayOk = c.domRestricted && c.dowRestricted ? c.daysOfMonth.has(l.day) || c.daysOfWeek.has(dow) : c.daysOfMonth.has(l.day) && c.daysOfWeek.has(dow);
    return c.months.has(l.month) && dayOk && c.hours.has(l.hour) && c.minutes.has(l.minute);
  };
  const cases: [string, string, string][] = [
    ["0 * * * *", NY, "2027-03-13T00:00:00Z"],
    ["*/15 1-3 * * *", NY, "2027-11-06T00:00:00Z"],
    ["30 2 * * 0", NY, "2027-03-13T00:00:00Z"],
    ["0,30 * * * *", "Europe/Berlin", "2027-10-30T00:00:00Z"],
    ["45 2 * * *", "Europe/Berlin", "2027-03-27T00:00:00Z"],
    ["*/30 * * * *", "Australia/Lord_Howe", "2027-04-03T00:00:00Z"],
    ["15 2 * * *", "Australia/Lord_Howe", "2027-10-02T00:00:00Z"],
  ];
  it.each(cases)("%s in %s from %s", (expression, timezone, fromIso) => {
    const c = parseCron(expression);
    const from = Date.parse(fromIso);
    const expected = new Set<number>();
    // Wall-clock minutes from a day before to three days after, in naive time.
    for (let naive = from - 86_400_000; naive < from + 3 * 86_400_000; naive += 60_000) {
      const l = fromNaiveMs(naive);
      if (matches(c, l)) expected.add(resolveLocal(timezone, l).atMs);
    }
    const horizon = from + 2 * 86_400_000;
    const want = [...expected].filter((t) => t > from && t <= horizon).sort((a, b) => a - b);
    const got = nextRunTimes({ kind: "cron", cron: expression, timezone }, from, want.length + 1).filter((t) => t <= horizon);
    expect(got).toEqual(want);
  });
});
