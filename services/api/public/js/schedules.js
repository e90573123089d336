// Schedules with their next runs (GET /v1/schedules), and "run now".
import { isMissingRoute } from "./api.js";
import { announce, h, replaceChildren } from "./dom.js";
import { modelName, relative, span, when } from "./format.js";

export function createSchedulesPanel(root, { api, onChange }) {
  function timing(s) {
    if (s.cron) return h("code", {}, s.cron);
    if (s.every_seconds) return `every ${span(s.every_seconds)}`;
    return "—";
  }

  function nextRuns(s) {
    if (!s.enabled) return h("span", { class: "muted" }, "paused");
    const runs = s.next_runs ?? [];
    if (!runs.length) return h("span", { class: "muted" }, "none");
    return h(
      "ol",
      { class: "next-runs" },
      runs.slice(0, 3).map((r, i) => h("li", {}, h("time", { datetime: r.utc, title: `${r.local} (${s.timezone})` }, when(r.utc, { seconds: false })), i === 0 ? h("span", { class: "muted small" }, ` ${relative(r.utc)}`) : null)),
      runs.length > 3 ? h("li", { class: "muted small" }, `+${runs.length - 3} more`) : null,
    );
  }

  async function runNow(s) {
    try {
      const run = await api.post(`/v1/schedules/${encodeURIComponent(s.id)}/run`);
      announce(run.job_id ? `Schedule ${s.name} fired: ${run.job_id}.` : `Schedule ${s.name} did not fire: ${run.message ?? run.outcome}.`);
      refresh();
      onChange?.();
    } catch (err) {
      announce(`Could not run ${s.name}: ${err.message}`, "error");
    }
  }

  let shown = null;
  function render(schedules) {
    // Redrawn when anything changed, or once a minute for the "in 12 min" texts.
    const signature = `${Math.floor(Date.now() / 60_000)} ${JSON.stringify(schedules)}`;
    if (signature === shown) return;
    shown = signature;
    if (!schedules.length) {
      replaceChildren(root, h("p", { class: "empty" }, "No schedules. Create one with POST /v1/schedules or `pnpm acebatch schedule create` to make jingles or loops on a timer."));
      return;
    }
    replaceChildren(
      root,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "schedules" },
          h("caption", { class: "sr-only" }, "Schedules and their next runs"),
          h("thead", {}, h("tr", {}, ["Name", "When", "Model / tags", "Next runs", "Last run", ""].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            schedules.map((s) =>
              h(
                "tr",
                { dataset: { scheduleId: s.id } },
                h("td", { dataset: { label: "Name" } }, h("strong", {}, s.name), s.enabled ? null : h("span", { class: "badge status-cancelled" }, "paused")),
                h("td", { dataset: { label: "When" } }, timing(s), h("div", { class: "muted small" }, s.timezone)),
                h("td", { dataset: { label: "Model" } }, modelName(s.model), h("div", { class: "muted small tags", title: s.input?.tags ?? "" }, s.tags_rotation?.length ? `rotating ${s.tags_rotation.length} tag sets` : (s.input?.tags ?? ""))),
                h("td", { dataset: { label: "Next" } }, nextRuns(s)),
                h("td", { dataset: { label: "Last" } }, s.last_run_at ? h("time", { datetime: s.last_run_at }, when(s.last_run_at, { seconds: false })) : h("span", { class: "muted" }, "never"), h("div", { class: "muted small" }, `${s.runs_total ?? 0} runs`)),
                h("td", {}, h("button", { type: "button", onclick: () => runNow(s) }, "Run now")),
              ),
            ),
          ),
        ),
      ),
    );
  }

  let hidden = false;
  async function refresh() {
    if (hidden) return;
    try {
      const body = await api.get("/v1/schedules?limit=50");
      render(body.data ?? []);
    } catch (err) {
      if (isMissingRoute(err)) {
        hidden = true;
        replaceChildren(root, h("p", { class: "hint" }, "This server does not offer schedules yet."));
      } else if (err.status === 403) {
        hidden = true;
        replaceChildren(root, h("p", { class: "hint" }, "This key may not see schedules (it lacks the schedules scope)."));
      } else replaceChildren(root, h("p", { class: "hint" }, `Schedules unavailable: ${err.message}`));
    }
  }

  return { refresh };
}
