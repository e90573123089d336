import { DateTime } from "luxon";

/** How often a budget starts over: never, every calendar day, or every calendar month (in its timezone). */
export type BudgetPeriod = "none" | "day" | "month";

export const BUDGET_PERIODS: readonly BudgetPeriod[] = ["none", "day", "month"];

/** The period a moment falls in: its counter key and its bounds (null for `none`). */
export interface PeriodWindow {
  /** `all`, `d:2026-11-24@America/New_York` or `m:2026-11@UTC`. */
  key: string;
  startsAt: Date | null;
  resetsAt: Date | null;
}

/** The canonical spelling of an IANA timezone (`utc` → `UTC`); throws a RangeError naming it if unknown. */
export function canonicalTimezone(timezone: string): string {
  try {
    if (typeof timezone !== "string" || timezone.trim() === "") throw new RangeError("empty");
    return new Intl.DateTimeFormat("en-US", { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    throw new RangeError(`unknown timezone ${JSON.stringify(timezone)}: use an IANA name such as "UTC" or "America/New_York"`);
  }
}

/**
 * The calendar period containing `now` in `timezone`. Days run from local midnight to the next
 * local midnight, so they last 23 or 25 hours across DST changes; luxon does the calendar maths.
 * The timezone is part of the key: the same date label in another zone is another period.
 */
export function periodWindow(period: BudgetPeriod, timezone: string, now: Date): PeriodWindow {
  if (period === "none") return { key: "all", startsAt: null, resetsAt: null };
  const local = DateTime.fromJSDate(now, { zone: timezone });
  if (!local.isValid) throw new RangeError(`cannot compute a period in timezone ${timezone}: ${local.invalidExplanation}`);
  if (period === "day") {
    const start = local.startOf("day");
    const next = start.plus({ days: 1 }).startOf("day");
    return { key: `d:${start.toISODate()}@${timezone}`, startsAt: start.toJSDate(), resetsAt: next.toJSDate() };
  }
  if (period === "month") {
    const start = local.startOf("month");
    const next = start.plus({ months: 1 }).startOf("month");
    return { key: `m:${start.toFormat("yyyy-MM")}@${timezone}`, startsAt: start.toJSDate(), resetsAt: next.toJSDate() };
  }
  throw new RangeError(`unknown budget period ${JSON.stringify(period)}: use none, day or month`);
}

/**
 * Spend is also kept in 15-minute UTC slots (every timezone in use today is offset by a multiple of
 * 15 minutes), so a budget whose period or timezone changes can recompute what was spent inside its
 * new period's window.
 */
export const SLOT_MS = 15 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The UTC date (`YYYY-MM-DD`) and slot number (0–95) of a moment. */
export function slotOf(at: Date): { day: string; slot: number } {
  const ms = at.getTime();
  const dayStart = Math.floor(ms / DAY_MS) * DAY_MS;
  return { day: new Date(dayStart).toISOString().slice(0, 10), slot: Math.floor((ms - dayStart) / SLOT_MS) };
}

/** The slots from `from` up to and including the one holding `to`, grouped by UTC date: `[day, firstSlot, lastSlot][]`. */
export function slotRanges(from: Date, to: Date): [string, number, number][] {
  const ranges: [string, number, number][] = [];
  let cursor = Math.floor(from.getTime() / SLOT_MS) * SLOT_MS;
  const end = to.getTime();
  while (cursor <= end) {
    const { day, slot } = slotOf(new Date(cursor));
    const dayEnd = Math.floor(cursor / DAY_MS) * DAY_MS + DAY_MS - 1;
    const last = slotOf(new Date(Math.min(end, dayEnd))).slot;
    ranges.push([day, slot, last]);
    cursor = dayEnd + 1;
  }
  return ranges;
}
