import { DateTime, IANAZone } from "luxon";

/** A wall-clock date-time with no zone: what a cron expression matches. Months are 1–12. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** How a wall-clock time maps onto the timeline in a zone. */
export type Resolution =
  | { kind: "unique"; atMs: number }
  /** Exists twice (the fall-back hour): both instants, earlier first. */
  | { kind: "repeated"; atMs: number; laterMs: number; endsAt: LocalDateTime }
  /** Does not exist (the spring-forward gap): the first valid instant after the gap. */
  | { kind: "skipped"; atMs: number };

const zones = new Map<string, IANAZone>();

function zoneOf(timezone: string): IANAZone {
  let zone = zones.get(timezone);
  if (!zone) {
    zone = IANAZone.create(timezone);
    if (!zone.isValid) throw new RangeError(`unknown timezone ${JSON.stringify(timezone)}`);
    zones.set(timezone, zone);
  }
  return zone;
}

/**
 * The canonical IANA name of `timezone` (`america/new_york` → `America/New_York`), or null when it
 * is not an IANA zone. Offsets such as `+02:00` are refused: they have no DST rules and would hide
 * what the user meant.
 */
export function canonicalTimezone(timezone: string): string | null {
  if (typeof timezone !== "string" || timezone.trim() === "" || /^[+-]/.test(timezone.trim())) return null;
  try {
    const name = new Intl.DateTimeFormat("en-US", { timeZone: timezone.trim() }).resolvedOptions().timeZone;
    return IANAZone.isValidZone(name) ? name : null;
  } catch {
    return null;
  }
}

/** Offset of `timezone` from UTC at the instant `atMs`, in milliseconds. */
export function offsetMs(timezone: string, atMs: number): number {
  return zoneOf(timezone).offset(atMs) * 60_000;
}

/** The wall-clock fields at `atMs` in `timezone` (milliseconds dropped). */
export function wallClock(timezone: string, atMs: number): LocalDateTime {
  const t = DateTime.fromMillis(atMs, { zone: zoneOf(timezone) });
  return { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second };
}

/** A wall-clock time read as if it were UTC: a number to compare and step local times with. */
export function naiveMs(l: LocalDateTime): number {
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
}

export function fromNaiveMs(ms: number): LocalDateTime {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/** The first instant in [loMs, hiMs] whose offset is no longer `fromOffset` (offsets change once in there). */
function transitionBetween(timezone: string, loMs: number, hiMs: number, fromOffset: number): number {
  let lo = loMs;
  let hi = hiMs;
  while (hi - lo > 1_000) {
    const mid = lo + Math.floor((hi - lo) / 2_000) * 1_000;
    if (offsetMs(timezone, mid) === fromOffset) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Where the wall-clock time `local` falls on the timeline of `timezone`. Every zone in use changes
 * its offset at most once within a day, so the offsets twelve hours either side are the only two
 * candidates.
 */
export function resolveLocal(timezone: string, local: LocalDateTime): Resolution {
  const naive = naiveMs(local);
  const before = offsetMs(timezone, naive - 12 * 3_600_000);
  const after = offsetMs(timezone, naive + 12 * 3_600_000);
  const candidates = [...new Set([before, after])]
    .map((offset) => naive - offset)
    .filter((at) => naive - offsetMs(timezone, at) === at)
    .sort((a, b) => a - b);
  if (candidates.length === 1) return { kind: "unique", atMs: candidates[0]! };
  if (candidates.length === 2) {
    // The repeated wall-clock range ends where the later offset starts, read in the earlier one.
    const transition = transitionBetween(timezone, candidates[0]!, candidates[1]!, before);
    return { kind: "repeated", atMs: candidates[0]!, laterMs: candidates[1]!, endsAt: fromNaiveMs(transition + before) };
  }
  // In a gap: naive - after is before the change and naive - before after it, for a forward jump.
  const lo = Math.min(naive - after, naive - before);
  const hi = Math.max(naive - after, naive - before);
  return { kind: "skipped", atMs: transitionBetween(timezone, lo, hi, offsetMs(timezone, lo)) };
}

/** `2027-03-14T03:30:00-04:00`: an instant as wall-clock time with its offset in `timezone`. */
export function formatLocal(timezone: string, atMs: number): string {
  return DateTime.fromMillis(atMs, { zone: zoneOf(timezone) }).toISO({ suppressMilliseconds: true, includeOffset: true })!;
}

/** `2027-11-07T01:30:00`: a wall-clock time without an offset (the label of a cron occurrence). */
export function formatWallClock(l: LocalDateTime): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(l.year, 4)}-${p(l.month)}-${p(l.day)}T${p(l.hour)}:${p(l.minute)}:${p(l.second)}`;
}
