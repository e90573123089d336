import { z } from "zod";

/** The four ACE Step endpoints on the RunComfy Model API, exactly as the provider names them. */
export const MODEL_IDS = [
  "acestep-ai/ace-step/text-to-audio",
  "acestep-ai/ace-step-1.5/text-to-audio",
  "acestep-ai/ace-step/audio-inpaint",
  "acestep-ai/ace-step/audio-outpaint",
] as const;

export type ModelId = (typeof MODEL_IDS)[number];

export const TEXT_TO_AUDIO = "acestep-ai/ace-step/text-to-audio" satisfies ModelId;
export const TEXT_TO_AUDIO_15 = "acestep-ai/ace-step-1.5/text-to-audio" satisfies ModelId;
export const AUDIO_INPAINT = "acestep-ai/ace-step/audio-inpaint" satisfies ModelId;
export const AUDIO_OUTPAINT = "acestep-ai/ace-step/audio-outpaint" satisfies ModelId;

export const modelIdSchema = z.enum(MODEL_IDS, {
  error: () => `model must be one of: ${MODEL_IDS.join(", ")}`,
});

export function isModelId(value: unknown): value is ModelId {
  return typeof value === "string" && (MODEL_IDS as readonly string[]).includes(value);
}

/** Models that take a source track in `input.audio`. */
export function takesSourceAudio(model: ModelId): boolean {
  return model === AUDIO_INPAINT || model === AUDIO_OUTPAINT;
}

/** Longest audio one provider call may produce, in seconds. */
export const MAX_OUTPUT_SECONDS = 240;
