// Batches: CSV upload -> priced quote (dry run) -> confirm -> live progress bars.
// spec/API.md has no "list batches" route, so the ids come from this browser's own uploads (kept in
// localStorage), from the batch_id of listed drafts, and from GET /v1/batches where it exists.
import { isAbort, isMissingRoute, randomKey } from "./api.js";
import { announce, h, replaceChildren } from "./dom.js";
import { plural, span, usd, when } from "./format.js";
import { readEventStream } from "./live.js";
import { TEXT_MODELS } from "./models.js";

const STORAGE_KEY = "acebatch.batches";
const MAX_REMEMBERED = 30;
const POLL_MS = 2000;
const POLL_WITH_EVENTS_MS = 10_000;
const FINAL = new Set(["completed", "cancelled", "failed"]);
const MAX_ERRORS_SHOWN = 50;
const LIST_LIMIT = 10;
const MAX_STREAMS = 2;

function remembered() {
  try {
    const ids = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "[]");
    return Array.isArray(ids) ? ids.filter((id) => typeof id === "string") : [];
  } catch {
    return [];
  }
}

function remember(ids) {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(ids.slice(0, MAX_REMEMBERED)));
}

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function createBatchesPanel(root, { api, features, budget, onShowJobs, onChange }) {
  const tracked = new Map(); // id -> { id, el, batch, signature, timer, stream }
  let streams = 0;
  const list = h("ul", { class: "batches", "aria-label": "Batches" });
  const empty = h("p", { class: "empty" }, "No batches yet from this browser. Upload a CSV with a tags column (and optionally lyrics, duration, seed, model) to queue many drafts at once.");
  const unavailable = h("p", { class: "hint", hidden: true }, "This server does not offer batch uploads yet (no /v1/batches route). Single drafts still work.");

  // ---- upload and quote ----
  const file = h("input", { type: "file", id: "batch-file", accept: ".csv,text/csv", required: true });
  const model = h("select", { id: "batch-model" }, TEXT_MODELS.map((m) => h("option", { value: m.id }, m.label)));
  const quoteBox = h("div", { class: "quote", hidden: true, "aria-live": "polite" });
  const form = h(
    "form",
    { class: "upload", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "batch-file" }, "CSV of tag combos"), file),
    h("div", { class: "field" }, h("label", { for: "batch-model" }, "Model for rows without one"), model),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "secondary" }, "Get quote")),
  );
  replaceChildren(root, unavailable, form, quoteBox, list, empty);

  let quoteToken = 0;
  async function quote() {
    const chosen = file.files?.[0];
    if (!chosen) {
      announce("Choose a CSV file first.", "error");
      return;
    }
    const token = ++quoteToken;
    quoteBox.hidden = false;
    replaceChildren(quoteBox, h("p", { class: "muted" }, `Pricing ${chosen.name}…`));
    const query = new URLSearchParams({ dry_run: "true", on_invalid: "skip", model: model.value, name: chosen.name });
    try {
      const res = await api.post(`/v1/batches?${query}`, chosen, { contentType: "text/csv" });
      if (token === quoteToken) showQuote(chosen, res);
    } catch (err) {
      if (token !== quoteToken) return;
      if (isMissingRoute(err)) return markUnavailable();
      if (err.status === 403) return markUnavailable("This key may not use batches (it lacks the batches scope).");
      // A 400 for a whole-file problem still carries row errors beside the error envelope.
      replaceChildren(quoteBox, h("p", { class: "error", role: "alert" }, `The file was not accepted: ${err.message}`), errorTable(err.body?.errors ?? err.details ?? []));
    }
  }

  function errorTable(errors) {
    if (!errors.length) return null;
    return h(
      "details",
      { class: "row-errors", open: errors.length <= 10 },
      h("summary", {}, `${plural(errors.length, "problem")} in the file`),
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Row"), h("th", { scope: "col" }, "Column"), h("th", { scope: "col" }, "Problem"))),
        h(
          "tbody",
          {},
          errors.slice(0, MAX_ERRORS_SHOWN).map((e) => h("tr", {}, h("td", {}, e.row ?? "—"), h("td", {}, e.column ?? e.path ?? "—"), h("td", {}, e.message ?? ""))),
        ),
      ),
      errors.length > MAX_ERRORS_SHOWN ? h("p", { class: "muted small" }, `…and ${errors.length - MAX_ERRORS_SHOWN} more`) : null,
    );
  }

  function showQuote(chosen, q) {
    const remaining = budget.current()?.remaining_usd;
    const over = remaining !== null && remaining !== undefined && q.estimated_cost_usd > remaining;
    const confirm = h("button", { type: "button", class: "primary", disabled: q.accepted === 0 }, `Confirm: queue ${plural(q.accepted, "draft")}`);
    const idempotencyKey = randomKey();
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      confirm.textContent = "Queueing…";
      const query = new URLSearchParams({ on_invalid: "skip", model: model.value, name: chosen.name });
      try {
        const created = await api.post(`/v1/batches?${query}`, chosen, { contentType: "text/csv", headers: { "idempotency-key": idempotencyKey } });
        quoteBox.hidden = true;
        form.reset();
        announce(`Batch ${created.id} created with ${plural(created.accepted, "draft")}.`);
        add([created.id], true);
        onChange?.();
      } catch (err) {
        confirm.disabled = false;
        confirm.textContent = "Confirm";
        announce(`Could not create the batch: ${err.message}`, "error");
      }
    });
    replaceChildren(
      quoteBox,
      h("h3", { class: "subhead" }, `Quote for ${chosen.name}`),
      h(
        "dl",
        { class: "stats" },
        h("div", { class: "stat" }, h("dt", {}, "Rows"), h("dd", {}, q.total)),
        h("div", { class: "stat" }, h("dt", {}, "Accepted"), h("dd", {}, q.accepted)),
        h("div", { class: "stat" }, h("dt", {}, "Rejected"), h("dd", { class: q.rejected ? "error" : "" }, q.rejected)),
        q.duplicates ? h("div", { class: "stat" }, h("dt", {}, "Duplicates"), h("dd", {}, q.duplicates)) : null,
        h("div", { class: "stat" }, h("dt", {}, "Estimated cost"), h("dd", {}, usd(q.estimated_cost_usd))),
        q.estimated_seconds ? h("div", { class: "stat" }, h("dt", {}, "Audio"), h("dd", {}, span(q.estimated_seconds))) : null,
      ),
      over ? h("p", { class: "warn" }, `That is more than the remaining budget (${usd(remaining)}): drafts past it will wait for budget.`) : null,
      (q.warnings ?? []).map((w) => h("p", { class: "warn" }, w)),
      errorTable(q.errors ?? []),
      h("div", { class: "form-actions" }, confirm, h("button", { type: "button", class: "ghost", onclick: () => (quoteBox.hidden = true) }, "Discard")),
    );
    confirm.focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    quote();
  });
  file.addEventListener("change", () => file.files?.length && quote());
  model.addEventListener("change", () => file.files?.length && quote());

  function markUnavailable(message) {
    features.batches = false;
    if (message) unavailable.textContent = message;
    unavailable.hidden = false;
    form.hidden = true;
    quoteBox.hidden = true;
  }

  // ---- tracked batches ----
  function card(batch) {
    const counts = batch.counts ?? {};
    const accepted = batch.accepted ?? 0;
    const finished = (counts.completed ?? 0) + (counts.failed ?? 0) + (counts.cancelled ?? 0);
    const percent = accepted ? Math.round((finished / accepted) * 100) : FINAL.has(batch.status) ? 100 : 0;
    const segments = ["completed", "failed", "cancelled", "in_progress", "waiting_budget"].map((s) => {
      const seg = h("span", { class: `seg seg-${s}` });
      seg.style.width = `${accepted ? ((counts[s] ?? 0) / accepted) * 100 : 0}%`;
      return seg;
    });
    const title = batch.name ? `${batch.name}` : batch.id;
    const live = !FINAL.has(batch.status);
    return [
      h(
        "div",
        { class: "batch-head" },
        h("strong", { class: "batch-name", title: batch.id }, title),
        h("span", { class: `badge status-${batch.status}` }, String(batch.status).replace(/_/g, " ")),
        h("span", { class: "muted small" }, when(batch.created_at)),
      ),
      h(
        "div",
        {
          class: `progress${live ? " live" : ""}`,
          role: "progressbar",
          "aria-label": `Progress of batch ${title}`,
          "aria-valuemin": 0,
          "aria-valuemax": 100,
          "aria-valuenow": percent,
          "aria-valuetext": `${finished} of ${accepted} drafts finished (${percent}%)`,
        },
        segments,
      ),
      h(
        "div",
        { class: "batch-meta small" },
        h("span", { class: "percent" }, `${percent}%`),
        ` · ${finished}/${accepted} done`,
        counts.failed ? h("span", { class: "error" }, ` · ${counts.failed} failed`) : null,
        counts.in_progress ? ` · ${counts.in_progress} generating` : null,
        counts.waiting_budget ? h("span", { class: "warn" }, ` · ${counts.waiting_budget} waiting for budget`) : null,
        ` · ${usd(batch.spent_usd)} spent of ~${usd(batch.estimated_cost_usd)}`,
        batch.eta_seconds ? ` · ${span(batch.eta_seconds)} left` : null,
        batch.rejected ? ` · ${plural(batch.rejected, "row")} rejected` : null,
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", onclick: () => onShowJobs(batch.id) }, "Show drafts"),
        h("button", { type: "button", onclick: () => downloadResults(batch) }, "Results CSV"),
        live ? h("button", { type: "button", onclick: () => cancel(batch) }, "Cancel") : null,
        !live && (counts.failed || counts.cancelled) ? h("button", { type: "button", onclick: () => retry(batch) }, "Retry failed") : null,
      ),
    ];
  }

  async function downloadResults(batch) {
    try {
      saveBlob(await api.blob(`/v1/batches/${encodeURIComponent(batch.id)}/results?format=csv`, { accept: "text/csv" }), `${batch.id}-results.csv`);
    } catch (err) {
      announce(`Could not download the results: ${err.message}`, "error");
    }
  }

  async function cancel(batch) {
    try {
      await api.post(`/v1/batches/${encodeURIComponent(batch.id)}/cancel`);
      announce(`Cancelling batch ${batch.id}.`);
      load(batch.id);
    } catch (err) {
      announce(`Could not cancel: ${err.message}`, "error");
    }
  }

  async function retry(batch) {
    try {
      const created = await api.post(`/v1/batches/${encodeURIComponent(batch.id)}/retry`);
      announce(`Retrying as batch ${created.id}.`);
      add([created.id], true);
    } catch (err) {
      announce(`Could not retry: ${err.message}`, "error");
    }
  }

  function sortList() {
    const entries = [...tracked.values()].filter((t) => t.batch).sort((a, b) => String(b.batch.created_at).localeCompare(String(a.batch.created_at)));
    entries.forEach((t, i) => {
      if (list.children[i] !== t.el) list.insertBefore(t.el, list.children[i] ?? null);
    });
    empty.hidden = entries.length > 0;
  }

  function forget(id) {
    const t = tracked.get(id);
    if (!t) return;
    clearTimeout(t.timer);
    t.stream?.abort();
    t.el.remove();
    tracked.delete(id);
    remember(remembered().filter((x) => x !== id));
    sortList();
  }

  async function load(id) {
    const t = tracked.get(id);
    if (!t || features.batches === false) return;
    clearTimeout(t.timer);
    try {
      const batch = await api.get(`/v1/batches/${encodeURIComponent(id)}`);
      features.batches = true;
      const wasLive = t.batch && !FINAL.has(t.batch.status);
      t.batch = batch;
      const signature = JSON.stringify(batch);
      if (t.signature !== signature) replaceChildren(t.el, card(batch));
      t.signature = signature;
      t.el.dataset.status = batch.status;
      sortList();
      if (FINAL.has(batch.status)) {
        t.stream?.abort();
        if (wasLive) {
          announce(`Batch ${batch.name ?? id} ${batch.status}.`);
          onChange?.();
        }
        return;
      }
      // Each stream holds one of the browser's ~6 HTTP/1.1 connections to this host: cap them.
      if (!t.stream && features.batchEvents !== false && streams < MAX_STREAMS) follow(t);
    } catch (err) {
      if (isMissingRoute(err)) return markUnavailable();
      if (err.status === 403) return markUnavailable("This key may not use batches (it lacks the batches scope).");
      if (err.status === 404) return forget(id); // made on another server or expired
      if (err.status === 401) return;
    }
    if (tracked.get(id) === t) t.timer = setTimeout(() => load(id), t.stream ? POLL_WITH_EVENTS_MS : POLL_MS);
  }

  /** Follow the batch's event stream; every event re-reads the batch (debounced). */
  async function follow(t) {
    const controller = new AbortController();
    t.stream = controller;
    streams++;
    let pending = 0;
    try {
      const res = await api.send("GET", `/v1/batches/${encodeURIComponent(t.id)}/events`, { signal: controller.signal, accept: "text/event-stream" });
      features.batchEvents = true;
      await readEventStream(res.body, () => {
        clearTimeout(pending);
        pending = setTimeout(() => load(t.id), 150);
      });
    } catch (err) {
      if (isMissingRoute(err)) features.batchEvents = false;
      else if (!isAbort(err)) console.warn(`batch ${t.id} events stopped: ${err.message}`);
    } finally {
      streams--;
      if (t.stream === controller) t.stream = null;
    }
  }

  /** Track these batch ids (first = true puts them at the front of the remembered list). */
  function add(ids, own = false) {
    if (own) remember([...ids, ...remembered().filter((x) => !ids.includes(x))]);
    for (const id of ids) {
      if (tracked.has(id)) {
        if (own) load(id);
        continue;
      }
      const el = h("li", { class: "batch", dataset: { batchId: id } });
      tracked.set(id, { id, el, batch: null, signature: "", timer: 0, stream: null });
      load(id);
    }
  }

  function stop() {
    for (const t of tracked.values()) {
      clearTimeout(t.timer);
      t.stream?.abort();
    }
    tracked.clear();
  }

  /** The newest batches from GET /v1/batches where the server has that (an addition to the spec). */
  async function refresh() {
    if (features.batchList === false || features.batches === false) return;
    try {
      const page = await api.get(`/v1/batches?limit=${LIST_LIMIT}`);
      features.batchList = true;
      add((page.data ?? []).map((b) => b.id));
    } catch (err) {
      if (isMissingRoute(err)) features.batchList = false;
      else if (err.status === 403) markUnavailable("This key may not use batches (it lacks the batches scope).");
    }
  }

  add(remembered());
  empty.hidden = tracked.size > 0;
  return { add, refresh, stop };
}
