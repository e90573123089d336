// Formatting for people: money, durations and times.

/** Dollars with as many decimals as small draft prices need (at least 2, at most 4). */
export function usd(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const abs = Math.abs(value);
  const digits = abs === 0 || abs >= 1 ? 2 : abs >= 0.1 ? 3 : 4;
  return `$${value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: digits })}`;
}

/** Seconds as m:ss (or h:mm:ss). */
export function clock(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  const hours = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60));
  const ss = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${mm.padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/** A rough length of time: "45 s", "12 min", "3 h". */
export function span(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeSeconds = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
const timeShort = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });

/** An ISO time in the viewer's locale; today's times show only the clock (with seconds if asked). */
export function when(iso, { seconds = true } = {}) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  if (date.toDateString() !== new Date().toDateString()) return dateTime.format(date);
  return (seconds ? timeSeconds : timeShort).format(date);
}

/** "in 3 h" / "5 min ago". */
export function relative(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = (Date.parse(iso) - now) / 1000;
  if (!Number.isFinite(seconds)) return "";
  return seconds >= 0 ? `in ${span(seconds)}` : `${span(-seconds)} ago`;
}

/** The short name of a model id: "ace-step · text-to-audio". */
export function modelName(model) {
  const [, family = "", task = model] = String(model).split("/");
  return `${family} · ${task}`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
