import { fromNaiveMs, naiveMs, type LocalDateTime } from "./zoned-time.ts";

/**
 * Cron expressions, 5 fields (`minute hour day-of-month month day-of-week`) or 6 with seconds
 * first, plus the usual `@daily`-style macros. Matching is on wall-clock time; the timezone and
 * the DST policy are applied by next-runs.ts. Supported per field: `*`, `?` (day fields), numbers,
 * ranges `a-b`, steps `*\/n`, `a-b/n`, `a/n`, lists, month and weekday names; day-of-week 0–7 with
 * 0 and 7 both Sunday. Like Vixie cron, when both day fields are restricted a day matches if
 * either does. `L`, `W` and `#` are refused rather than half-supported.
 */
export interface CronSchedule {
  /** The expression as given (trimmed, macros expanded). */
  source: string;
  seconds: ReadonlySet<number>;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0–6, Sunday = 0. */
  daysOfWeek: ReadonlySet<number>;
  domRestricted: boolean;
  dowRestricted: boolean;
}

export class CronSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CronSyntaxError";
  }
}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Value of names[0]. */
  namesFrom?: number;
}

const FIELDS: Record<string, FieldSpec> = {
  second: { name: "second", min: 0, max: 59 },
  minute: { name: "minute", min: 0, max: 59 },
  hour: { name: "hour", min: 0, max: 23 },
  dayOfMonth: { name: "day-of-month", min: 1, max: 31 },
  month: { name: "month", min: 1, max: 12, names: MONTH_NAMES, namesFrom: 1 },
  dayOfWeek: { name: "day-of-week", min: 0, max: 7, names: DAY_NAMES, namesFrom: 0 },
};

function parseValue(raw: string, spec: FieldSpec): number {
  const lower = raw.toLowerCase();
  if (spec.names) {
    const index = spec.names.indexOf(lower);
    if (index >= 0) return index + spec.namesFrom!;
  }
  if (!/^\d+$/.test(raw)) {
    if (/[lw#]/i.test(raw)) throw new CronSyntaxError(`${spec.name} field: "${raw}" uses L, W or #, which are not supported`);
    throw new CronSyntaxError(`${spec.name} field: "${raw}" is not a number${spec.names ? " or a name" : ""}`);
  }
  const value = Number(raw);
  if (value < spec.min || value > spec.max) {
    throw new CronSyntaxError(`${spec.name} field: ${value} is out of range ${spec.min}-${spec.max}`);
  }
  return value;
}

function parseField(raw: string, spec: FieldSpec, allowQuestion: boolean): { values: Set<number>; restricted: boolean } {
  if (raw === "?" && allowQuestion) raw = "*";
  const values = new Set<number>();
  for (const part of raw.split(",")) {
    if (part === "") throw new CronSyntaxError(`${spec.name} field: empty list entry in "${raw}"`);
    const [range, stepRaw, extra] = part.split("/");
    if (extra !== undefined) throw new CronSyntaxError(`${spec.name} field: "${part}" has more than one /`);
    let step = 1;
    if (stepRaw !== undefined) {
      if (!/^\d+$/.test(stepRaw) || Number(stepRaw) < 1) throw new CronSyntaxError(`${spec.name} field: step "${stepRaw}" must be a whole number of at least 1`);
      step = Number(stepRaw);
    }
    let from: number;
    let to: number;
    if (range === "*") {
      from = spec.min;
      to = spec.max === 7 ? 6 : spec.max;
    } else if (range!.includes("-")) {
      const [a, b, more] = range!.split("-");
      if (more !== undefined || !a || !b) throw new CronSyntaxError(`${spec.name} field: "${range}" is not a range a-b`);
      from = parseValue(a, spec);
      to = parseValue(b, spec);
      if (from > to) throw new CronSyntaxError(`${spec.name} field: range "${range}" runs backwards`);
    } else {
      from = parseValue(range!, spec);
      // `a/n` means from a to the end of the field.
      to = stepRaw === undefined ? from : spec.max;
    }
    for (let v = from; v <= to; v += step) values.add(spec.max === 7 && v === 7 ? 0 : v);
  }
  return { values, restricted: !raw.startsWith("*") };
}

/** Parse a cron expression; throws CronSyntaxError saying which field is wrong. */
export function parseCron(expression: string): CronSchedule {
  if (typeof expression !== "string") throw new CronSyntaxError("cron must be a string");
  const trimmed = expression.trim();
  const macro = trimmed.toLowerCase();
  // Own keys only: "constructor" or "toString" must not find Object.prototype's members.
  const source = Object.hasOwn(MACROS, macro) ? MACROS[macro]! : trimmed;
  if (source.startsWith("@")) throw new CronSyntaxError(`unknown macro "${trimmed}": use ${Object.keys(MACROS).join(", ")}`);
  const parts = source.split(/\s+/).filter((p) => p !== "");
  if (parts.length !== 5 && parts.length !== 6) {
    throw new CronSyntaxError(`cron must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first); got ${parts.length}`);
  }
  const [sec, min, hour, dom, mon, dow] = parts.length === 6 ? parts : ["0", ...parts];
  const dayOfMonth = parseField(dom!, FIELDS.dayOfMonth!, true);
  const dayOfWeek = parseField(dow!, FIELDS.dayOfWeek!, true);
  const schedule: CronSchedule = {
    source: parts.join(" "),
    seconds: parseField(sec!, FIELDS.second!, false).values,
    minutes: parseField(min!, FIELDS.minute!, false).values,
    hours: parseField(hour!, FIELDS.hour!, false).values,
    daysOfMonth: dayOfMonth.values,
    months: parseField(mon!, FIELDS.month!, false).values,
    daysOfWeek: dayOfWeek.values,
    domRestricted: dayOfMonth.restricted,
    dowRestricted: dayOfWeek.restricted,
  };
  if (nextWallClockMatch(schedule, { year: 2000, month: 1, day: 1, hour: 0, minute: 0, second: 0 }) === null) {
    throw new CronSyntaxError(`cron "${trimmed}" never fires (no such date, e.g. 30 February)`);
  }
  return schedule;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function dayMatches(c: CronSchedule, year: number, month: number, day: number): boolean {
  const dom = c.daysOfMonth.has(day);
  const dow = c.daysOfWeek.has(new Date(Date.UTC(year, month - 1, day)).getUTCDay());
  if (c.domRestricted && c.dowRestricted) return dom || dow;
  return dom && dow;
}

function firstAtOrAfter(values: ReadonlySet<number>, from: number, max: number): number | null {
  for (let v = from; v <= max; v++) if (values.has(v)) return v;
  return null;
}

/** A search horizon that covers the rarest expression (29 February on a given weekday: 28 years). */
const MAX_YEARS = 30;

/** The first wall-clock time at or after `from` that the expression matches, or null within the horizon. */
export function nextWallClockMatch(c: CronSchedule, from: LocalDateTime): LocalDateTime | null {
  let { year, month, day, hour, minute, second } = from;
  const lastYear = from.year + MAX_YEARS;
  for (;;) {
    if (year > lastYear) return null;
    if (!c.months.has(month)) {
      const m = firstAtOrAfter(c.months, month + 1, 12);
      if (m === null) {
        year += 1;
        month = firstAtOrAfter(c.months, 1, 12)!;
      } else month = m;
      day = 1;
      hour = minute = second = 0;
      continue;
    }
    if (day > daysInMonth(year, month) || !dayMatches(c, year, month, day)) {
      day += 1;
      hour = minute = second = 0;
      if (day > daysInMonth(year, month)) {
        day = 1;
        month += 1;
        if (month > 12) {
          month = 1;
          year += 1;
        }
      }
      continue;
    }
    const h = firstAtOrAfter(c.hours, hour, 23);
    if (h === null) {
      ({ year, month, day } = fromNaiveMs(naiveMs({ year, month, day, hour: 0, minute: 0, second: 0 }) + 86_400_000));
      hour = minute = second = 0;
      continue;
    }
    if (h !== hour) {
      hour = h;
      minute = second = 0;
    }
    const m = firstAtOrAfter(c.minutes, minute, 59);
    if (m === null) {
      hour += 1;
      minute = second = 0;
      if (hour > 23) {
        ({ year, month, day } = fromNaiveMs(naiveMs({ year, month, day, hour: 0, minute: 0, second: 0 }) + 86_400_000));
        hour = 0;
      }
      continue;
    }
    if (m !== minute) {
      minute = m;
      second = 0;
    }
    const s = firstAtOrAfter(c.seconds, second, 59);
    if (s === null) {
      minute += 1;
      second = 0;
      if (minute > 59) {
        minute = 0;
        hour += 1;
        if (hour > 23) {
          ({ year, month, day } = fromNaiveMs(naiveMs({ year, month, day, hour: 0, minute: 0, second: 0 }) + 86_400_000));
          hour = 0;
        }
      }
      continue;
    }
    return { year, month, day, hour, minute, second: s };
  }
}
