import type { RepeatOptions } from "bullmq";
import { nextWallClockMatch, parseCron, type CronSchedule } from "./cron.ts";
import { formatLocal, fromNaiveMs, naiveMs, resolveLocal, wallClock } from "./zoned-time.ts";

/**
 * The DST policy, as the API shows it. Cron expressions match wall-clock time in the schedule's
 * timezone and each wall-clock time fires at most once.
 */
export const DST_POLICY =
  "Cron times are wall-clock times in the schedule's timezone. A time that does not exist (the hour skipped when clocks spring forward) " +
  "runs once at the first valid instant after the gap (02:30 in America/New_York on 2027-03-14 runs at 03:00 EDT); several skipped times " +
  "in one gap make one run. A time that exists twice (the hour repeated when clocks fall back) runs once, at its first occurrence " +
  "(01:30 on 2027-11-07 runs at 01:30 EDT, not again at 01:30 EST). every_seconds counts elapsed time and is not affected by DST.";

/** A fire time, in the schedule's timezone and in UTC. */
export interface FireTime {
  local: string;
  utc: string;
}

/** When a schedule fires: a cron expression in a timezone, or a fixed interval on a grid. */
export type Timing =
  | { kind: "cron"; cron: string; timezone: string }
  /** `anchorMs` is one point of the grid (the first run); runs are anchorMs + k × everySeconds. */
  | { kind: "every"; everySeconds: number; anchorMs: number; timezone: string };

const parsed = new Map<string, CronSchedule>();

function cached(expression: string): CronSchedule {
  let c = parsed.get(expression);
  if (!c) {
    c = parseCron(expression);
    if (parsed.size > 1_000) parsed.clear();
    parsed.set(expression, c);
  }
  return c;
}

/**
 * The first fire time strictly after `afterMs` (ms since epoch), or null if the expression never
 * fires again. Applies the DST policy: a matched wall-clock time in a gap fires at the gap's end;
 * a repeated one only at its first instant. The mapping from wall-clock to instant never goes
 * backwards, so the first match whose instant is after `afterMs` is the answer.
 */
export function nextCronRun(expression: string, timezone: string, afterMs: number): number | null {
  const c = cached(expression);
  // Whole seconds: a cron time is never finer than that.
  let from = wallClock(timezone, afterMs);
  for (let guard = 0; guard < 100_000; guard++) {
    const match = nextWallClockMatch(c, from);
    if (match === null) return null;
    const r = resolveLocal(timezone, match);
    if (r.atMs > afterMs) return r.atMs;
    const next = naiveMs(match) + 1_000;
    // From inside the second pass of a repeated hour every time left in it has already had its
    // (first) run: skip to the end of it at once instead of second by second.
    const secondPassStart = r.kind === "repeated" ? naiveMs(r.endsAt) - (naiveMs(match) - r.atMs) : Infinity;
    from = fromNaiveMs(r.kind === "repeated" && afterMs >= secondPassStart ? Math.max(next, naiveMs(r.endsAt)) : next);
  }
  throw new Error(`cron "${expression}" in ${timezone}: no next run found after ${new Date(afterMs).toISOString()}`);
}

/** The first fire time strictly after `afterMs` for any timing, or null. */
export function nextRunAfter(timing: Timing, afterMs: number): number | null {
  if (timing.kind === "cron") return nextCronRun(timing.cron, timing.timezone, afterMs);
  const every = timing.everySeconds * 1_000;
  const k = Math.floor((afterMs - timing.anchorMs) / every) + 1;
  return timing.anchorMs + Math.max(0, k) * every;
}

/** The next `count` fire times strictly after `afterMs` (ms since epoch). */
export function nextRunTimes(timing: Timing, afterMs: number, count: number): number[] {
  const out: number[] = [];
  // The first run of an interval grid is its anchor itself.
  let cursor = timing.kind === "every" && afterMs < timing.anchorMs ? timing.anchorMs - 1 : afterMs;
  while (out.length < count) {
    const next = nextRunAfter(timing, cursor);
    if (next === null) break;
    out.push(next);
    cursor = next;
  }
  return out;
}

/** Fire times as the API shows them: local time with its offset, and UTC. */
export function toFireTimes(timezone: string, times: readonly number[]): FireTime[] {
  return times.map((at) => ({ local: formatLocal(timezone, at), utc: new Date(at).toISOString() }));
}

/**
 * BullMQ's repeat strategy for our cron schedulers: the scheduler fires exactly at the times
 * `next_runs` shows. BullMQ's default (cron-parser) moves a skipped 02:30 to 03:30 and fires an
 * hourly cron in both 01:00s at fall-back, which is not our policy. Queue and Worker of the
 * schedules queue both need it (the Worker computes the next run when one starts).
 */
export function scheduleRepeatStrategy(millis: number, opts: RepeatOptions): number | undefined {
  if (!opts.pattern) return undefined;
  return nextCronRun(opts.pattern, opts.tz ?? "UTC", millis) ?? undefined;
}
