// The four ACE Step models and the fields each takes (spec/API.md; bounds as the provider's).

export const TEXT_TO_AUDIO = "acestep-ai/ace-step/text-to-audio";
export const TEXT_TO_AUDIO_15 = "acestep-ai/ace-step-1.5/text-to-audio";
export const AUDIO_INPAINT = "acestep-ai/ace-step/audio-inpaint";
export const AUDIO_OUTPAINT = "acestep-ai/ace-step/audio-outpaint";

export const MODELS = [
  { id: TEXT_TO_AUDIO, label: "ACE Step · text to audio" },
  { id: TEXT_TO_AUDIO_15, label: "ACE Step 1.5 · text to audio" },
  { id: AUDIO_INPAINT, label: "ACE Step · fix a section (inpaint)" },
  { id: AUDIO_OUTPAINT, label: "ACE Step · extend (outpaint)" },
];

export const TEXT_MODELS = MODELS.filter((m) => m.id === TEXT_TO_AUDIO || m.id === TEXT_TO_AUDIO_15);

/** Which field groups a model shows in the form. */
export function fieldGroups(model) {
  if (model === AUDIO_INPAINT) return ["source", "section"];
  if (model === AUDIO_OUTPAINT) return ["source", "extend"];
  return ["duration"];
}

export const JOB_STATUSES = ["queued", "waiting_budget", "in_progress", "completed", "failed", "cancelled"];
export const FINAL_STATUSES = new Set(["completed", "failed", "cancelled"]);

export const statusLabel = (status) => String(status).replace(/_/g, " ");
