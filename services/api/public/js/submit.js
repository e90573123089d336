// "New draft": one job from a form. Variation / extend / fix-a-section prefill it from a draft.
import { h, replaceChildren, announce } from "./dom.js";
import { usd } from "./format.js";
import { AUDIO_INPAINT, AUDIO_OUTPAINT, MODELS, TEXT_TO_AUDIO, fieldGroups } from "./models.js";

const NUMBER_FIELDS = ["duration", "seed", "start_time", "end_time", "extend_before_duration", "extend_after_duration"];

function field(name, label, control, hint) {
  const id = `submit-${name}`;
  control.id = id;
  control.name = name;
  const error = h("span", { class: "field-error", id: `${id}-error`, hidden: true });
  control.setAttribute("aria-describedby", `${id}-error${hint ? ` ${id}-hint` : ""}`);
  return h("div", { class: "field", dataset: { field: name } }, h("label", { for: id }, label), control, hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null, error);
}

const num = (attrs) => h("input", { type: "number", inputmode: "decimal", ...attrs });

/** Build the submit form into `root`; returns { prefill(model, input) }. */
export function createSubmitForm(root, { api, onSubmitted }) {
  const model = h("select", {}, MODELS.map((m) => h("option", { value: m.id }, m.label)));
  const groups = {
    duration: h("div", { class: "group row" }, field("duration", "Length (s)", num({ min: 5, max: 240, step: 1, value: 30, required: true }), "5–240")),
    source: h(
      "div",
      { class: "group" },
      field("audio", "Source draft", h("input", { type: "text", placeholder: "job_… or https://…", required: true, spellcheck: "false" }), "a completed job id or an https URL"),
    ),
    section: h(
      "div",
      { class: "group row" },
      field("start_time", "Start (s)", num({ min: 0, max: 240, step: 0.1, value: 0 })),
      field("end_time", "End (s)", num({ min: 0, max: 240, step: 0.1, value: 10 })),
    ),
    extend: h(
      "div",
      { class: "group row" },
      field("extend_before_duration", "Add before (s)", num({ min: 0, max: 240, step: 1, value: 0 })),
      field("extend_after_duration", "Add after (s)", num({ min: 0, max: 240, step: 1, value: 30 })),
    ),
  };
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    field("model", "Model", model),
    field("tags", "Tags", h("input", { type: "text", required: true, maxlength: 2000, placeholder: "lo-fi, mellow, 90 BPM, rhodes" }), "comma-separated genre, mood, instruments"),
    groups.duration,
    groups.source,
    groups.section,
    groups.extend,
    field("lyrics", "Lyrics", h("textarea", { rows: 3, maxlength: 10000, placeholder: "[inst]" }), "leave empty or [inst] for an instrumental"),
    h("div", { class: "group row" }, field("seed", "Seed", num({ min: -1, step: 1, value: -1 }), "-1 = random")),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, "Generate draft"), h("span", { class: "muted small", "aria-live": "polite" })),
  );
  const submitButton = form.querySelector("button[type=submit]");
  const result = form.querySelector(".form-actions span");
  replaceChildren(root, form);

  const control = (name) => form.elements.namedItem(name);

  function showGroups() {
    const visible = new Set(fieldGroups(model.value));
    for (const [name, group] of Object.entries(groups)) {
      group.hidden = !visible.has(name);
      for (const el of group.querySelectorAll("input")) el.disabled = group.hidden;
    }
  }
  model.addEventListener("change", showGroups);
  showGroups();

  function clearErrors() {
    for (const el of form.querySelectorAll(".field-error")) {
      el.hidden = true;
      el.textContent = "";
    }
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }

  function showError(name, message) {
    const input = control(name);
    const error = form.querySelector(`#submit-${name}-error`);
    if (!input || !error) return false;
    input.setAttribute("aria-invalid", "true");
    error.textContent = message;
    error.hidden = false;
    return true;
  }

  function readInput() {
    const input = {};
    for (const name of ["tags", "lyrics", "audio", ...NUMBER_FIELDS]) {
      const el = control(name);
      if (!el || el.disabled) continue;
      const value = el.value.trim();
      if (value === "") continue;
      input[name] = NUMBER_FIELDS.includes(name) ? Number(value) : value;
    }
    return input;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const input = readInput();
    if (!input.tags) {
      showError("tags", "Tags are required.");
      control("tags").focus();
      return;
    }
    submitButton.disabled = true;
    result.textContent = "Submitting…";
    try {
      const job = await api.post("/v1/jobs", { model: model.value, input });
      result.textContent = `Queued ${job.id}${job.estimated_cost_usd != null ? ` · est. ${usd(job.estimated_cost_usd)}` : ""}`;
      announce(`Draft ${job.id} queued.`);
      onSubmitted(job);
    } catch (err) {
      result.textContent = "";
      let shown = false;
      for (const detail of err.details ?? []) {
        const name = String(detail.path ?? "").replace(/^input\./, "");
        shown = showError(name, detail.message) || shown;
      }
      announce(shown ? "Some fields need attention." : `Could not submit: ${err.message}`, "error");
    } finally {
      submitButton.disabled = false;
    }
  });

  /** Fill the form from a draft (extend / fix a section / edit) and bring it into view. */
  function prefill(modelId, input) {
    model.value = modelId;
    showGroups();
    clearErrors();
    for (const name of ["tags", "lyrics", "audio", ...NUMBER_FIELDS]) {
      const el = control(name);
      if (!el) continue;
      if (input[name] !== undefined && input[name] !== null) el.value = String(input[name]);
      else if (name === "seed") el.value = "-1";
      else if (name === "lyrics" || name === "audio") el.value = "";
    }
    result.textContent = modelId === AUDIO_INPAINT ? "Set the section to regenerate, then generate." : modelId === AUDIO_OUTPAINT ? "Set how much to add, then generate." : "";
    root.closest("section")?.scrollIntoView({ behavior: "smooth", block: "start" });
    control(modelId === TEXT_TO_AUDIO || fieldGroups(modelId).includes("duration") ? "tags" : modelId === AUDIO_INPAINT ? "start_time" : "extend_after_duration")?.focus({ preventScroll: true });
  }

  return { prefill };
}
