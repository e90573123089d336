// The drafts table: GET /v1/jobs (newest first), status filter, cursor paging, a player and
// waveform per completed draft, and the actions people take on a good one.
import { h, replaceChildren, announce } from "./dom.js";
import { clock, modelName, usd, when } from "./format.js";
import { AUDIO_INPAINT, AUDIO_OUTPAINT, FINAL_STATUSES, JOB_STATUSES, statusLabel } from "./models.js";
import { createDraftPlayer } from "./player.js";

const PAGE_SIZE = 50;

export const statusBadge = (status) => h("span", { class: `badge status-${status}` }, statusLabel(status));

/** The jobs panel inside `root` with its filters in `filtersRoot`. */
export function createJobsPanel(root, filtersRoot, { api, drafts, submitForm, onBatchIds, onChange }) {
  const state = { status: "", batchId: "", cursor: null, history: [], nextCursor: null, jobs: [] };
  const rows = new Map();

  const statusSelect = h(
    "select",
    { id: "jobs-status", "aria-label": "Filter by status" },
    h("option", { value: "" }, "All statuses"),
    JOB_STATUSES.map((s) => h("option", { value: s }, statusLabel(s))),
  );
  const batchChip = h("span", { class: "chip", hidden: true });
  const refreshButton = h("button", { type: "button", class: "ghost", onclick: () => refresh() }, "Refresh");
  replaceChildren(filtersRoot, batchChip, statusSelect, refreshButton);
  statusSelect.addEventListener("change", () => {
    state.status = statusSelect.value;
    resetPaging();
  });

  const tbody = h("tbody");
  const empty = h("p", { class: "empty", hidden: true }, "No drafts yet. Generate one with the form, or upload a CSV of tag combos.");
  const message = h("p", { class: "hint", hidden: true });
  const newer = h("button", { type: "button", class: "ghost", onclick: () => page(-1) }, "← Newer");
  const older = h("button", { type: "button", class: "ghost", onclick: () => page(1) }, "Older →");
  const pageInfo = h("span", { class: "muted small" });
  const table = h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "jobs" },
      h("caption", { class: "sr-only" }, "Drafts, newest first"),
      h(
        "thead",
        {},
        h("tr", {}, ["Created", "Status", "Model", "Tags", "Length", "Cost", "Draft", "Actions"].map((t) => h("th", { scope: "col" }, t))),
      ),
      tbody,
    ),
  );
  replaceChildren(root, message, table, empty, h("div", { class: "pager" }, newer, pageInfo, older));

  function resetPaging() {
    state.cursor = null;
    state.history = [];
    refresh();
  }

  function page(direction) {
    if (direction > 0 && state.nextCursor) {
      state.history.push(state.cursor);
      state.cursor = state.nextCursor;
    } else if (direction < 0 && state.history.length) {
      state.cursor = state.history.pop();
    } else return;
    refresh();
  }

  /** Show only one batch's drafts (null clears). */
  function filterBatch(batchId) {
    state.batchId = batchId ?? "";
    batchChip.hidden = !batchId;
    replaceChildren(
      batchChip,
      batchId ? `Batch ${batchId}` : "",
      batchId ? h("button", { type: "button", class: "chip-x", "aria-label": "Show all batches", onclick: () => filterBatch(null) }, "×") : null,
    );
    resetPaging();
    if (batchId) root.closest("section")?.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  async function act(label, promise) {
    try {
      const job = await promise;
      announce(`${label}: ${job.id} queued.`);
      await refresh();
      onChange?.();
    } catch (err) {
      announce(`${label} failed: ${err.message}`, "error");
    }
  }

  function actions(job, player) {
    const list = [];
    if (job.status === "completed") {
      list.push(
        h(
          "button",
          {
            type: "button",
            title: "Same model and tags, a new random seed",
            onclick: () => act("Variation", api.post("/v1/jobs", { model: job.model, input: { ...job.input, seed: -1 }, metadata: { variation_of: job.id } })),
          },
          "Variation",
        ),
        h(
          "button",
          {
            type: "button",
            title: "Outpaint: add music before or after this draft",
            onclick: () => submitForm.prefill(AUDIO_OUTPAINT, { audio: job.id, tags: job.input.tags, lyrics: job.input.lyrics, extend_before_duration: 0, extend_after_duration: 30 }),
          },
          "Extend",
        ),
        h(
          "button",
          {
            type: "button",
            title: "Inpaint: regenerate a section of this draft (starts where you paused)",
            onclick: () => {
              const length = job.output?.duration_seconds ?? 30;
              const at = player?.currentTime() ?? 0;
              const start = at > 0 ? Math.floor(at) : Math.floor(length / 3);
              const end = Math.min(length, start + Math.max(5, Math.round(length / 3)));
              submitForm.prefill(AUDIO_INPAINT, { audio: job.id, tags: job.input.tags, lyrics: job.input.lyrics, start_time: start, end_time: end });
            },
          },
          "Fix a section",
        ),
      );
    } else if (!FINAL_STATUSES.has(job.status)) {
      list.push(h("button", { type: "button", onclick: () => act("Cancel", api.post(`/v1/jobs/${encodeURIComponent(job.id)}/cancel`)) }, "Cancel"));
    } else {
      list.push(h("button", { type: "button", title: "Submit the same input again", onclick: () => act("Retry", api.post("/v1/jobs", { model: job.model, input: job.input })) }, "Retry"));
    }
    return h("div", { class: "actions" }, list);
  }

  function statusCell(job) {
    const cell = [statusBadge(job.status)];
    if (job.status === "in_progress" && job.provider?.queue_position != null) cell.push(h("span", { class: "muted small" }, ` #${job.provider.queue_position} in queue`));
    if (job.error) cell.push(h("div", { class: "error small", title: job.error.code }, job.error.message));
    if (job.cancel_requested && !FINAL_STATUSES.has(job.status)) cell.push(h("div", { class: "muted small" }, "cancelling…"));
    return cell;
  }

  function seedText(job) {
    const seed = [job.output?.seed, job.input?.seed].find((s) => Number.isInteger(s) && s >= 0);
    return seed === undefined ? "random seed" : `seed ${seed}`;
  }

  function tagsCell(job) {
    const lyrics = job.input?.lyrics && job.input.lyrics !== "[inst]";
    return [
      h("div", { class: "tags", title: job.input?.tags ?? "" }, job.input?.tags ?? ""),
      h(
        "div",
        { class: "muted small" },
        job.input?.audio ? `from ${job.input.audio} · ` : "",
        lyrics ? "with lyrics · " : "",
        seedText(job),
        job.batch_id ? " · " : "",
        job.batch_id ? h("button", { type: "button", class: "link", onclick: () => filterBatch(job.batch_id) }, job.batch_id) : null,
      ),
    ];
  }

  function renderRow(entry, job) {
    // Unchanged rows are left alone: rebuilding them would take the focus from a button every refresh.
    const signature = JSON.stringify(job);
    if (entry.signature === signature) return;
    entry.signature = signature;
    const changed = !entry.job || entry.job.status !== job.status;
    entry.job = job;
    const { cells } = entry;
    entry.tr.dataset.status = job.status;
    replaceChildren(cells.created, h("time", { datetime: job.created_at, title: job.created_at }, when(job.created_at)));
    replaceChildren(cells.status, statusCell(job));
    replaceChildren(cells.model, modelName(job.model));
    replaceChildren(cells.tags, tagsCell(job));
    replaceChildren(cells.length, clock(job.output?.duration_seconds ?? job.input?.duration ?? null));
    replaceChildren(cells.cost, job.cost_usd != null ? usd(job.cost_usd) : h("span", { class: "muted", title: "estimate" }, job.estimated_cost_usd != null ? `~${usd(job.estimated_cost_usd)}` : "—"));
    if (changed) {
      if (job.status === "completed" && job.output) {
        entry.player = createDraftPlayer(job, drafts);
        replaceChildren(cells.draft, entry.player.root);
      } else replaceChildren(cells.draft);
    } else entry.player?.update(job);
    replaceChildren(cells.actions, actions(job, entry.player));
  }

  function rowFor(job) {
    let entry = rows.get(job.id);
    if (!entry) {
      const names = ["created", "status", "model", "tags", "length", "cost", "draft", "actions"];
      const cells = Object.fromEntries(names.map((n) => [n, h("td", { class: `col-${n}`, dataset: { label: n } })]));
      const tr = h("tr", { dataset: { jobId: job.id } }, Object.values(cells));
      entry = { tr, cells, job: null, player: null, signature: "" };
      rows.set(job.id, entry);
    }
    renderRow(entry, job);
    return entry.tr;
  }

  // Rows are kept, not rebuilt: a draft that is playing must not stop when the table refreshes.
  function render(jobs) {
    const wanted = new Set(jobs.map((j) => j.id));
    for (const [id, entry] of rows) {
      if (!wanted.has(id)) {
        entry.tr.remove();
        rows.delete(id);
      }
    }
    jobs.forEach((job, i) => {
      const tr = rowFor(job);
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null);
    });
    empty.hidden = jobs.length > 0;
    newer.disabled = state.history.length === 0;
    older.disabled = !state.nextCursor;
    pageInfo.textContent = `Page ${state.history.length + 1}`;
  }

  let inflight = null;
  async function refresh() {
    if (inflight) return inflight;
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (state.status) query.set("status", state.status);
    if (state.batchId) query.set("batch_id", state.batchId);
    if (state.cursor) query.set("cursor", state.cursor);
    inflight = api
      .get(`/v1/jobs?${query}`)
      .then((body) => {
        state.jobs = body.data;
        state.nextCursor = body.next_cursor;
        message.hidden = true;
        render(body.data);
        const batchIds = [...new Set(body.data.map((j) => j.batch_id).filter(Boolean))];
        if (batchIds.length) onBatchIds(batchIds);
      })
      .catch((err) => {
        message.hidden = false;
        message.textContent = err.status === 403 ? "This key may not read jobs (it lacks the jobs:read scope)." : `Could not load drafts: ${err.message}`;
      })
      .finally(() => {
        inflight = null;
      });
    return inflight;
  }

  return {
    refresh,
    filterBatch,
    /** Whether anything on this page is still moving (the app refreshes faster then). */
    active: () => state.jobs.some((j) => !FINAL_STATUSES.has(j.status)),
  };
}
