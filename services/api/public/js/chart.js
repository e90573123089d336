// A small hand-drawn SVG bar chart: daily spend, with the daily limit as a dashed line.
import { h, svg } from "./dom.js";
import { usd } from "./format.js";

const DAY_MS = 86_400_000;

/** The last `days` UTC days up to today (or the newest key), with 0 for days without spend. */
export function dailySeries(rows, days = 14, today = new Date()) {
  const byDay = new Map(rows.filter((r) => /^\d{4}-\d{2}-\d{2}$/.test(r.key)).map((r) => [r.key, r]));
  const newestKey = [...byDay.keys()].sort().at(-1);
  const todayKey = today.toISOString().slice(0, 10);
  const end = Date.parse(`${newestKey && newestKey > todayKey ? newestKey : todayKey}T00:00:00Z`);
  const series = [];
  for (let i = days - 1; i >= 0; i--) {
    const key = new Date(end - i * DAY_MS).toISOString().slice(0, 10);
    const row = byDay.get(key);
    series.push({ key, cost: row?.cost_usd ?? 0, jobs: row?.jobs ?? 0, seconds: row?.seconds ?? 0 });
  }
  return series;
}

/** Axis ticks from 0 past `max` in 2–4 "nice" steps (1, 2, 2.5 or 5 times a power of ten). */
function axisTicks(max) {
  if (max <= 0) return [0, 0.001, 0.002];
  const exp = 10 ** Math.floor(Math.log10(max / 4));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * exp).find((s) => s * 4 >= max) ?? 10 * exp;
  const count = Math.max(2, Math.ceil(max / step - 1e-9));
  return Array.from({ length: count + 1 }, (_, i) => i * step);
}

const shortDay = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

/** An accessible SVG chart of `series` ({ key, cost, jobs }); `limit` draws a dashed line. */
export function spendChart(series, { limit = null } = {}) {
  const width = 560;
  const height = 180;
  const pad = { top: 14, right: 10, bottom: 26, left: 52 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const most = Math.max(...series.map((d) => d.cost));
  // A limit far above the spend would flatten every bar: then it is named, not drawn.
  const drawLimit = limit !== null && (most === 0 || limit <= 10 * most);
  const ticks = axisTicks(Math.max(most, drawLimit ? limit : 0));
  const top = ticks.at(-1);
  const y = (v) => pad.top + plotH - (v / top) * plotH;
  const slot = plotW / series.length;
  const total = series.reduce((sum, d) => sum + d.cost, 0);

  const grid = ticks.map((t) =>
    svg(
      "g",
      { class: "grid" },
      svg("line", { x1: pad.left, x2: width - pad.right, y1: y(t), y2: y(t) }),
      svg("text", { x: pad.left - 6, y: y(t) + 4, "text-anchor": "end" }, t === 0 ? "$0" : usd(t)),
    ),
  );
  const bars = series.map((d, i) => {
    const barH = Math.max(d.cost > 0 ? 2 : 0, pad.top + plotH - y(d.cost));
    return svg(
      "rect",
      { class: "bar", x: pad.left + i * slot + slot * 0.15, width: slot * 0.7, y: pad.top + plotH - barH, height: barH, rx: 2 },
      svg("title", {}, `${d.key}: ${usd(d.cost)} · ${d.jobs} draft${d.jobs === 1 ? "" : "s"}`),
    );
  });
  const labels = series
    .map((d, i) => ({ d, i }))
    .filter(({ i }) => i % Math.ceil(series.length / 7) === (series.length - 1) % Math.ceil(series.length / 7))
    .map(({ d, i }) => svg("text", { class: "xlabel", x: pad.left + i * slot + slot / 2, y: height - 8, "text-anchor": "middle" }, shortDay.format(new Date(`${d.key}T00:00:00Z`))));
  const limitLine =
    drawLimit
      ? svg(
          "g",
          { class: "limit" },
          svg("line", { x1: pad.left, x2: width - pad.right, y1: y(limit), y2: y(limit) }),
          svg("text", { x: width - pad.right, y: y(limit) - 4, "text-anchor": "end" }, `daily limit ${usd(limit)}`),
        )
      : null;

  const summary = `Spend per day over the last ${series.length} days: ${usd(total)} in all, at most ${usd(most)} on one day.`;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": summary, preserveAspectRatio: "xMidYMid meet" }, grid, bars, labels, limitLine);
  const caption = `${usd(total)} over ${series.length} days (UTC)${limit !== null && !drawLimit ? ` · daily limit ${usd(limit)}, far above` : ""}`;
  return h("figure", { class: "spend-figure" }, chart, h("figcaption", { class: "muted small" }, caption));
}
