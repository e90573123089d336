// Spend vs budget: the numbers from GET /v1/budget and a daily chart from GET /v1/spend?group_by=day.
import { h, replaceChildren } from "./dom.js";
import { relative, usd, when } from "./format.js";
import { dailySeries, spendChart } from "./chart.js";

export function createBudgetPanel({ body, period, chart }, { api }) {
  let budget = null;

  function meter(b) {
    if (b.limit_usd === null || b.limit_usd === undefined) return h("p", { class: "muted" }, "No spending limit is set.");
    const limit = Math.max(b.limit_usd, 1e-9);
    const spent = Math.min(1, b.spent_usd / limit);
    const reserved = Math.min(1 - spent, b.reserved_usd / limit);
    const used = b.spent_usd + b.reserved_usd;
    const spentBar = h("span", { class: "meter-spent" });
    const reservedBar = h("span", { class: "meter-reserved" });
    spentBar.style.width = `${(spent * 100).toFixed(2)}%`;
    reservedBar.style.width = `${(reserved * 100).toFixed(2)}%`;
    return h(
      "div",
      {
        class: `meter${used >= limit ? " meter-full" : used >= 0.8 * limit ? " meter-warn" : ""}`,
        role: "meter",
        "aria-label": "Budget used",
        "aria-valuemin": 0,
        "aria-valuemax": b.limit_usd,
        "aria-valuenow": Math.min(used, b.limit_usd),
        "aria-valuetext": `${usd(b.spent_usd)} spent and ${usd(b.reserved_usd)} reserved of ${usd(b.limit_usd)}`,
      },
      spentBar,
      reservedBar,
    );
  }

  const stat = (label, value, extra) => h("div", { class: "stat" }, h("dt", {}, label), h("dd", {}, value, extra ? h("span", { class: "stat-extra muted small" }, extra) : null));

  function renderBudget(b) {
    period.textContent = b.period === "none" ? "no reset" : `per ${b.period} · ${b.timezone}`;
    replaceChildren(
      body,
      h(
        "dl",
        { class: "stats" },
        stat("Limit", b.limit_usd === null ? "none" : usd(b.limit_usd)),
        stat("Spent", usd(b.spent_usd)),
        stat("Reserved", usd(b.reserved_usd), "in flight"),
        stat("Remaining", b.remaining_usd === null ? "∞" : usd(b.remaining_usd)),
        stat("Resets", b.resets_at ? h("time", { datetime: b.resets_at, title: b.resets_at }, relative(b.resets_at)) : "never", b.resets_at ? when(b.resets_at, { seconds: false }) : ""),
      ),
      meter(b),
    );
  }

  async function refresh() {
    const [b, spend] = await Promise.allSettled([api.get("/v1/budget"), api.get("/v1/spend?group_by=day")]);
    if (b.status === "fulfilled") {
      budget = b.value;
      renderBudget(budget);
    } else {
      replaceChildren(body, h("p", { class: "hint" }, b.reason.status === 403 ? "This key may not read the budget." : `Budget unavailable: ${b.reason.message}`));
    }
    if (spend.status === "fulfilled") {
      const limit = budget && budget.period === "day" ? budget.limit_usd : null;
      replaceChildren(chart, spendChart(dailySeries(spend.value.data ?? []), { limit }));
    } else {
      replaceChildren(chart, h("p", { class: "hint" }, `Spend history unavailable: ${spend.reason.message}`));
    }
  }

  return { refresh, current: () => budget };
}
