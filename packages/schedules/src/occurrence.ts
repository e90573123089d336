import { createHash } from "node:crypto";
import { crockfordChars, encodeIdTime, MAX_SEED, parseModelInput } from "@acebatch/contracts";
import { DateTime } from "luxon";
import { nextRunAfter, type Timing } from "./next-runs.ts";
import type { ScheduleBudgetPeriod, ScheduleSpec } from "./schedule-schema.ts";
import { formatWallClock, wallClock } from "./zoned-time.ts";

/** What set an occurrence off: the schedule's own timing, or `POST /v1/schedules/{id}/run`. */
export type Trigger = "schedule" | "manual";

/** A late occurrence counts as a catch-up only when it is late by more than one interval plus this. */
export const CATCH_UP_GRACE_MS = 1_000;

export function timingOf(spec: Pick<ScheduleSpec, "cron" | "every_seconds" | "timezone">, anchorMs: number): Timing {
  return spec.cron !== null
    ? { kind: "cron", cron: spec.cron, timezone: spec.timezone }
    : { kind: "every", everySeconds: spec.every_seconds!, anchorMs, timezone: spec.timezone };
}

/**
 * The identity of an occurrence. A cron occurrence is its wall-clock time in the schedule's
 * timezone, so even if something fired both 01:30 EDT and 01:30 EST they would be one occurrence
 * (one job). An interval occurrence is its UTC millisecond; a manual one the moment it was asked.
 */
export function occurrenceKey(spec: Pick<ScheduleSpec, "cron" | "timezone">, scheduledMs: number, trigger: Trigger): string {
  if (trigger === "manual") return `manual@${scheduledMs}`;
  if (spec.cron !== null) return `${spec.timezone}@${formatWallClock(wallClock(spec.timezone, scheduledMs))}`;
  return `t@${scheduledMs}`;
}

/**
 * The job id of an occurrence: the same schedule and occurrence always give the same id, so a
 * second worker or a retry converges on one job. It has the shape of `newId("job")` (48-bit time +
 * 80 bits, here from a hash) so it sorts by time in job listings and is accepted wherever a job id is
 * (e.g. as the source `audio` of an inpaint).
 */
export function occurrenceJobId(scheduleId: string, key: string, atMs: number): string {
  const digest = createHash("sha256").update(`${scheduleId}|${key}`).digest();
  return `job_${encodeIdTime(Math.max(0, Math.floor(atMs)))}${crockfordChars(digest, 16)}`;
}

/** The tags and seed of run number `run` (0-based count of runs enqueued before it). */
export function runParameters(
  spec: Pick<ScheduleSpec, "input" | "tags_rotation" | "seed_strategy">,
  run: number,
  rotationIndex: number,
): { tags: string; seed: number } {
  const rotation = spec.tags_rotation;
  const tags = rotation && rotation.length > 0 ? rotation[rotationIndex % rotation.length]! : String(spec.input.tags);
  const base = Number(spec.input.seed ?? -1);
  const seed = spec.seed_strategy === "random" ? -1 : spec.seed_strategy === "fixed" ? base : (base + run) % (MAX_SEED + 1);
  return { tags, seed };
}

/** The provider input of one run, validated again as the provider's schema (defaults applied). */
export function runInput(spec: Pick<ScheduleSpec, "model" | "input" | "tags_rotation" | "seed_strategy">, run: number, rotationIndex: number) {
  const { tags, seed } = runParameters(spec, run, rotationIndex);
  const parsed = parseModelInput(spec.model, { ...spec.input, tags, seed });
  if (!parsed.success) throw new Error(`schedule template no longer validates: ${parsed.error.message}`);
  return { input: parsed.data as Record<string, unknown>, tags, seed };
}

/**
 * Whether a fired occurrence is a catch-up: it started so late that the occurrence after it was
 * already due (it stands in for runs missed while nothing was running). Returns how late it is.
 */
export function lateness(timing: Timing, scheduledMs: number, nowMs: number): { lateMs: number; caughtUp: boolean } {
  const lateMs = Math.max(0, nowMs - scheduledMs);
  const following = nextRunAfter(timing, scheduledMs);
  return { lateMs, caughtUp: following !== null && nowMs >= following + CATCH_UP_GRACE_MS };
}

/** The calendar period (in the schedule's timezone) holding `nowMs`: its key and when it ends. */
export function budgetPeriodOf(period: ScheduleBudgetPeriod, timezone: string, nowMs: number): { key: string; resetsAtMs: number } {
  const local = DateTime.fromMillis(nowMs, { zone: timezone });
  const start = local.startOf(period);
  const next = start.plus(period === "day" ? { days: 1 } : { months: 1 }).startOf(period);
  const key = period === "day" ? `d:${start.toISODate()}` : `m:${start.toFormat("yyyy-MM")}`;
  return { key: `${key}@${timezone}`, resetsAtMs: next.toMillis() };
}
