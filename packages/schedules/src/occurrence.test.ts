import { isId } from "@acebatch/contracts";
import { describe, expect, it } from "vitest";
import { budgetPeriodOf, lateness, occurrenceJobId, occurrenceKey, runInput, runParameters, timingOf } from "./occurrence.ts";
import type { ScheduleSpec } from "./schedule-schema.ts";

const NY = "America/New_York";
const spec = (over: Partial<ScheduleSpec> = {}): ScheduleSpec =>
  ({
    model: "acestep-ai/ace-step/text-to-audio",
    input: { tags: "template", duration: 10, seed: 100 },
    tags_rotation: ["lo-fi", "jazz", "ambient"],
    seed_strategy: "increment",
    ...over,
  }) as ScheduleSpec;

describe("rotation and seeds", () => {
  it("takes the next tag set in order, cycling", () => {
    const tags = [0, 1, 2, 3, 4, 5, 6].map((i) => runParameters(spec(), i, i % 3).tags);
    expect(tags).toEqual(["lo-fi", "jazz", "ambient", "lo-fi", "jazz", "ambient", "lo-fi"]);
    expect(runParameters(spec({ tags_rotation: null }), 5, 0).tags).toBe("template");
  });

  it("gives -1 for random, the template seed for fixed, seed + run number for increment (wrapping)", () => {
    expect(runParameters(spec({ seed_strategy: "random" }), 3, 0).seed).toBe(-1);
    expect(runParameters(spec({ seed_strategy: "fixed" }), 3, 0).seed).toBe(100);
    expect([0, 1, 2].map((n) => runParameters(spec(), n, 0).seed)).toEqual([100, 101, 102]);
    expect(runParameters(spec({ input: { tags: "x", seed: 2_147_483_647 } }), 1, 0).seed).toBe(0);
  });

  it("re-validates the run's input with the provider's defaults", () => {
    const { input } = runInput(spec({ input: { seed: 7 } }), 1, 2);
    expect(input).toEqual({ tags: "ambient", duration: 60, seed: 8 });
  });
});

describe("occurrence identity", () => {
  it("gives the same job id for the same schedule and occurrence, another for another, shaped like a job id", () => {
    const a = occurrenceJobId("sch_1", "t@1000", 1_000);
    expect(occurrenceJobId("sch_1", "t@1000", 1_000)).toBe(a);
    expect(occurrenceJobId("sch_1", "t@3000", 3_000)).not.toBe(a);
    expect(occurrenceJobId("sch_2", "t@1000", 1_000)).not.toBe(a);
    expect(isId("job", a)).toBe(true);
    // Time-sortable like newId: a later occurrence sorts after.
    expect(occurrenceJobId("sch_1", "t@3000", 3_000) > a).toBe(true);
  });

  it("names a cron occurrence by its wall-clock time, so the two 01:30s of a fall-back night are one occurrence", () => {
    const cron = { cron: "30 1 * * *", timezone: NY };
    const edt = occurrenceKey(cron, Date.parse("2027-11-07T05:30:00Z"), "schedule");
    const est = occurrenceKey(cron, Date.parse("2027-11-07T06:30:00Z"), "schedule");
    expect(edt).toBe("America/New_York@2027-11-07T01:30:00");
    expect(est).toBe(edt);
    expect(occurrenceKey({ cron: null, timezone: NY }, 5_000, "schedule")).toBe("t@5000");
    expect(occurrenceKey(cron, 5_000, "manual")).toBe("manual@5000");
  });
});

describe("catch-up detection", () => {
  const every2 = timingOf({ cron: null, every_seconds: 2, timezone: "UTC" }, 0);
  it("is a catch-up only when the following occurrence was already due (plus a grace)", () => {
    expect(lateness(every2, 10_000, 10_050)).toEqual({ lateMs: 50, caughtUp: false });
    expect(lateness(every2, 10_000, 12_500).caughtUp).toBe(false);
    expect(lateness(every2, 10_000, 13_000).caughtUp).toBe(true);
    const daily = timingOf({ cron: "30 1 * * *", every_seconds: null, timezone: NY }, 0);
    const due = Date.parse("2027-11-07T05:30:00Z");
    expect(lateness(daily, due, due + 3_600_000).caughtUp).toBe(false);
    expect(lateness(daily, due, Date.parse("2027-11-08T06:31:00Z")).caughtUp).toBe(true);
  });
});

describe("budget periods", () => {
  it("are calendar days and months in the schedule's timezone", () => {
    expect(budgetPeriodOf("day", NY, Date.parse("2027-11-07T03:00:00Z"))).toEqual({
      key: "d:2027-11-06@America/New_York",
      resetsAtMs: Date.parse("2027-11-07T04:00:00Z"),
    });
    // The fall-back day lasts 25 hours.
    expect(budgetPeriodOf("day", NY, Date.parse("2027-11-07T12:00:00Z")).resetsAtMs).toBe(Date.parse("2027-11-08T05:00:00Z"));
    expect(budgetPeriodOf("month", "UTC", Date.parse("2027-02-10T00:00:00Z")).key).toBe("m:2027-02@UTC");
  });
});
