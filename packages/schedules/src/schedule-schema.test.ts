import { issuesToDetails } from "@acebatch/contracts";
import { describe, expect, it } from "vitest";
import { applyPatch, scheduleDefinitionSchema, schedulePatchSchema, type ScheduleSpec } from "./schedule-schema.ts";

const T2A = "acestep-ai/ace-step/text-to-audio";
const base = { name: "morning jingle", cron: "0 9 * * *", model: T2A, input: { tags: "jingle, upbeat", duration: 10 } };
const parse = (body: Record<string, unknown>) => scheduleDefinitionSchema.safeParse(body);
const errorPaths = (body: Record<string, unknown>) => {
  const r = parse(body);
  expect(r.success).toBe(false);
  return issuesToDetails(r.error!.issues).map((d) => d.path);
};
const messages = (body: Record<string, unknown>) => issuesToDetails(parse(body).error!.issues).map((d) => `${d.path}: ${d.message}`);

describe("schedule validation", () => {
  it("applies defaults: UTC, seed_strategy random, overlap skip, enabled, the provider's input defaults", () => {
    const r = parse(base);
    expect(r.success).toBe(true);
    expect(r.data).toMatchObject({
      cron: "0 9 * * *",
      every_seconds: null,
      timezone: "UTC",
      seed_strategy: "random",
      overlap: "skip",
      enabled: true,
      input: { tags: "jingle, upbeat", duration: 10, seed: -1 },
      tags_rotation: null,
      max_cost_per_run_micro_usd: null,
    });
  });

  it.each([
    ["a cron with 4 fields", { cron: "0 9 * *" }, "cron", /5 fields .* or 6/],
    ["a cron with 7 fields", { cron: "0 0 9 * * * 2027" }, "cron", /5 fields/],
    ["minute 61", { cron: "61 9 * * *" }, "cron", /minute field: 61 is out of range 0-59/],
    ["a backwards range", { cron: "0 17-9 * * *" }, "cron", /runs backwards/],
    ["a step of 0", { cron: "*/0 * * * *" }, "cron", /step "0"/],
    ["L", { cron: "0 9 L * *" }, "cron", /L, W or #/],
    ["a date that never comes", { cron: "0 9 30 2 *" }, "cron", /never fires/],
    ["a word", { cron: "every morning" }, "cron", /5 fields/],
  ])("rejects %s", (_label, change, path, message) => {
    const r = parse({ ...base, ...change });
    expect(r.success).toBe(false);
    const details = issuesToDetails(r.error!.issues);
    expect(details.map((d) => d.path)).toEqual([path]);
    expect(details[0]!.message).toMatch(message);
  });

  it("accepts 6-field crons, names, lists, steps and macros", () => {
    for (const cron of ["*/10 * * * * *", "0 9 * * mon-fri", "0 9 1,15 jan-jun *", "@daily", "5/15 * * * *", "0 0 * * 7"]) {
      expect(parse({ ...base, cron }).success, cron).toBe(true);
    }
    expect(parse({ ...base, cron: "@hourly" }).data!.cron).toBe("0 * * * *");
  });

  it("rejects a timezone that is not an IANA name and canonicalises one that is", () => {
    expect(messages({ ...base, timezone: "Mars/Olympus_Mons" })).toEqual([
      'timezone: unknown timezone "Mars/Olympus_Mons": use an IANA name such as "UTC" or "America/New_York"',
    ]);
    expect(errorPaths({ ...base, timezone: "+02:00" })).toEqual(["timezone"]);
    expect(parse({ ...base, timezone: "america/new_york" }).data!.timezone).toBe("America/New_York");
  });

  it("needs exactly one of cron and every_seconds", () => {
    expect(messages({ ...base, every_seconds: 60 })).toEqual(["cron: give either cron or every_seconds, not both"]);
    const { cron: _cron, ...neither } = base;
    expect(messages(neither)).toEqual(["cron: cron or every_seconds is required (exactly one of them)"]);
    expect(errorPaths({ ...neither, every_seconds: 0 })).toEqual(["every_seconds"]);
    expect(errorPaths({ ...neither, every_seconds: 1.5 })).toEqual(["every_seconds"]);
    expect(parse({ ...neither, every_seconds: 1 }).data).toMatchObject({ cron: null, every_seconds: 1 });
  });

  it("validates input exactly like POST /v1/jobs and names every bad field", () => {
    expect(errorPaths({ ...base, input: { duration: 999, colour: "red" } }).sort()).toEqual(["input.colour", "input.duration", "input.tags"]);
    expect(errorPaths({ ...base, model: "acestep-ai/ace-step-9/text-to-audio" })).toEqual(["model"]);
    expect(errorPaths({ ...base, evry_seconds: 5 })).toEqual(["evry_seconds"]);
  });

  it("still runs the checks that combine fields when a field fails its own schema, on the fields that are valid", () => {
    const bad = { webhook_url: "ftp://x", timezone: "Mars/Base", input: { duration: 999, seed: 4 }, max_cost_per_period_usd: 1 };
    expect(errorPaths({ ...base, ...bad }).sort()).toEqual(["budget_period", "input.duration", "input.tags", "timezone", "webhook_url"]);
    expect(errorPaths({ ...base, name: 7, model: "acestep-ai/nope" }).sort()).toEqual(["model", "name"]);
    // A field that failed is named once, by its own schema: the checks that need it are skipped.
    expect(errorPaths({ ...base, cron: 5, seed_strategy: "sometimes", input: { tags: "x", seed: 4 } }).sort()).toEqual(["cron", "seed_strategy"]);
    expect(errorPaths({ ...base, tags_rotation: ["a", " "], input: { duration: 999 } }).sort()).toEqual(["input.duration", "tags_rotation.1"]);
  });

  it("lets a rotation supply the tags and validates each entry", () => {
    const r = parse({ ...base, input: { duration: 10 }, tags_rotation: ["lo-fi", "jazz", "ambient"] });
    expect(r.success).toBe(true);
    expect(r.data!.input).toEqual({ duration: 10, seed: -1 });
    expect(errorPaths({ ...base, tags_rotation: ["lo-fi", "  "] })).toEqual(["tags_rotation.1"]);
    expect(errorPaths({ ...base, tags_rotation: [] })).toEqual(["tags_rotation"]);
  });

  it("keeps seeds meaningful: random refuses a fixed seed; fixed and increment draw one once if none is given", () => {
    expect(errorPaths({ ...base, input: { ...base.input, seed: 42 } })).toEqual(["input.seed"]);
    expect(parse({ ...base, seed_strategy: "fixed", input: { ...base.input, seed: 42 } }).data!.input.seed).toBe(42);
    const drawn = parse({ ...base, seed_strategy: "increment" }).data!.input.seed as number;
    expect(drawn).toBeGreaterThanOrEqual(0);
  });

  it("stores caps in micro-dollars and needs a period with a period cap", () => {
    const r = parse({ ...base, max_cost_per_run_usd: 0.05, max_cost_per_period_usd: 1.5, budget_period: "day" });
    expect(r.data).toMatchObject({ max_cost_per_run_micro_usd: 50_000, max_cost_per_period_micro_usd: 1_500_000, budget_period: "day" });
    expect(errorPaths({ ...base, max_cost_per_period_usd: 1 })).toEqual(["budget_period"]);
    expect(errorPaths({ ...base, budget_period: "week" })).toEqual(["budget_period"]);
    expect(errorPaths({ ...base, max_cost_per_run_usd: -1 })).toEqual(["max_cost_per_run_usd"]);
  });
});

describe("PATCH", () => {
  const spec = parse({ ...base, every_seconds: undefined, tags_rotation: ["a", "b"], metadata: { team: "x" } }).data as ScheduleSpec;

  it("merges input and metadata, replaces other fields, and switching cron ↔ every_seconds clears the other", () => {
    const patched = parse(applyPatch(spec, schedulePatchSchema.parse({ input: { duration: 20 }, every_seconds: 30, metadata: { env: "prod" } })));
    expect(patched.data).toMatchObject({ cron: null, every_seconds: 30, input: { tags: "jingle, upbeat", duration: 20 }, metadata: { team: "x", env: "prod" } });
    const cleared = parse(applyPatch(spec, schedulePatchSchema.parse({ tags_rotation: null, max_cost_per_run_usd: 0.01 })));
    expect(cleared.data).toMatchObject({ tags_rotation: null, max_cost_per_run_micro_usd: 10_000 });
  });

  it("re-validates the whole definition", () => {
    const r = parse(applyPatch(spec, schedulePatchSchema.parse({ timezone: "Nowhere/Land" })));
    expect(r.success).toBe(false);
    expect(schedulePatchSchema.safeParse({}).success).toBe(false);
  });
});
