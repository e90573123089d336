// acebatch dashboard: a client of /v1 exactly as spec/API.md describes it. The key is entered once
// and kept in sessionStorage (this tab only); any 401 returns to the login form.
import { ApiError, createApi } from "./api.js";
import { $, announce } from "./dom.js";
import { createBatchesPanel } from "./batches.js";
import { createBudgetPanel } from "./budget.js";
import { createJobsPanel } from "./jobs.js";
import { createDraftStore, installExclusivePlayback } from "./player.js";
import { createSchedulesPanel } from "./schedules.js";
import { createSubmitForm } from "./submit.js";

const KEY_STORAGE = "acebatch.key";
/** How often the timers look whether something is due (and how fast moving drafts refresh). */
const TICK_MS = 2000;
const JOBS_IDLE_MS = 15_000;
const BUDGET_MS = 10_000;
const SCHEDULES_MS = 30_000;
const BATCH_LIST_MS = 20_000;

let session = null;

function showLogin(message) {
  $("#dashboard").hidden = true;
  $("#session").hidden = true;
  $("#login-view").hidden = false;
  const error = $("#login-error");
  error.hidden = !message;
  error.textContent = message ?? "";
  $("#api-key").value = "";
  $("#api-key").focus();
}

function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE);
  session?.stop();
  session = null;
  showLogin(message);
}

/** Every panel for one key; stop() ends its timers, streams and Blob URLs. */
function startSession(key) {
  const api = createApi({
    key,
    onUnauthorized: (message) => signOut(`The server rejected the key: ${message}`),
  });
  // What this server offers, learned from 404 route_not_found answers (undefined = not known yet).
  const features = { batches: undefined, batchList: undefined, batchEvents: undefined, waveform: undefined };
  const drafts = createDraftStore({ api, features });
  const timers = new Set();
  /** Run `fn` now and then every `ms` while the tab is visible; `due()` may ask for it sooner. */
  const every = (ms, fn, due = () => false) => {
    let last = 0;
    const tick = async () => {
      if (!document.hidden && (Date.now() - last >= ms || due())) {
        last = Date.now();
        await fn().catch(() => undefined);
      }
      if (!timers.has(handle)) return;
      timers.delete(handle);
      handle = setTimeout(tick, TICK_MS);
      timers.add(handle);
    };
    let handle = setTimeout(tick, 0);
    timers.add(handle);
  };

  const budget = createBudgetPanel({ body: $("#budget-body"), period: $("#budget-period"), chart: $("#spend-chart") }, { api });
  const refreshSoon = () => setTimeout(() => {
    jobs.refresh();
    budget.refresh();
  }, 300);
  const submitForm = createSubmitForm($("#submit-body"), { api, onSubmitted: refreshSoon });
  let batches;
  const jobs = createJobsPanel($("#jobs-body"), $("#jobs-filters"), {
    api,
    drafts,
    submitForm,
    onBatchIds: (ids) => batches.add(ids),
    onChange: () => budget.refresh(),
  });
  batches = createBatchesPanel($("#batches-body"), { api, features, budget, onShowJobs: (id) => jobs.filterBatch(id), onChange: refreshSoon });
  const schedules = createSchedulesPanel($("#schedules-body"), { api, onChange: refreshSoon });

  // Moving drafts are followed closely; a quiet page still notices jobs made elsewhere.
  every(JOBS_IDLE_MS, jobs.refresh, () => jobs.active());
  every(BUDGET_MS, budget.refresh);
  every(SCHEDULES_MS, schedules.refresh);
  every(BATCH_LIST_MS, batches.refresh);

  $("#session-key").textContent = `key …${key.slice(-4)}`;
  $("#session").hidden = false;
  $("#login-view").hidden = true;
  $("#dashboard").hidden = false;

  return {
    stop() {
      timers.forEach(clearTimeout);
      timers.clear();
      batches.stop();
      for (const audio of document.querySelectorAll("audio")) audio.pause();
      drafts.dispose();
    },
  };
}

async function signIn(key) {
  // Check the key once before showing anything: a 401 keeps the form up with a message.
  const probe = createApi({ key, onUnauthorized: () => undefined });
  try {
    await probe.get("/v1/budget");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw new Error("That key was not accepted. Check it and try again.");
    if (!(err instanceof ApiError) || err.status !== 403) throw new Error(err.message);
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  session = startSession(key);
}

function main() {
  installExclusivePlayback();
  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#api-key");
    const key = input.value.trim();
    const error = $("#login-error");
    if (!key) {
      error.hidden = false;
      error.textContent = "Enter an API key.";
      return;
    }
    const button = event.target.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await signIn(key);
      announce("Signed in.");
    } catch (err) {
      error.hidden = false;
      error.textContent = err.message;
      input.select();
    } finally {
      button.disabled = false;
    }
  });
  $("#logout").addEventListener("click", () => signOut("Signed out."));

  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) session = startSession(saved);
  else showLogin();
}

main();
