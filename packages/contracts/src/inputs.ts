import { z } from "zod";
import {
  anchorField,
  durationField,
  extensionField,
  lyricsField,
  seedField,
  segmentTimeField,
  sourceAudioField,
  tagsField,
} from "./fields.ts";
import { AUDIO_INPAINT, AUDIO_OUTPAINT, TEXT_TO_AUDIO, TEXT_TO_AUDIO_15, type ModelId } from "./models.ts";

/** The message when `input` is missing or not an object (zod's own words for anything else). */
export const inputObjectError = (issue: z.core.$ZodRawIssue) =>
  issue.code === "invalid_type"
    ? issue.input === undefined
      ? "input is required: an object with the model's fields"
      : "input must be an object with the model's fields"
    : undefined;
const asInput = { error: inputObjectError };

/** text-to-audio (base and 1.5): tags required; lyrics; duration 5–240 (60); seed (-1). */
export const textToAudioInput = z.strictObject({
  tags: tagsField,
  lyrics: lyricsField.optional(),
  duration: durationField,
  seed: seedField,
}, asInput);

/**
 * audio-inpaint: regenerate [start_time, end_time] of the source, each anchored to the start or end
 * of the track. With both anchors on the same side the region must not be empty or inverted.
 */
export const audioInpaintInput = z
  .strictObject({
    audio: sourceAudioField,
    tags: tagsField,
    start_time: segmentTimeField.default(0),
    start_time_relative_to: anchorField,
    end_time: segmentTimeField.default(30),
    end_time_relative_to: anchorField,
    lyrics: lyricsField.optional(),
    seed: seedField,
  }, asInput)
  .superRefine((v, ctx) => {
    const sameAnchor = v.start_time_relative_to === v.end_time_relative_to;
    const empty =
      sameAnchor &&
      (v.start_time_relative_to === "start" ? v.end_time <= v.start_time : v.start_time <= v.end_time);
    if (empty) {
      ctx.addIssue({
        code: "custom",
        path: ["end_time"],
        message:
          v.start_time_relative_to === "start"
            ? "end_time must be after start_time when both are measured from the track start"
            : "start_time must be further from the end than end_time when both are measured from the track end",
      });
    }
  });

/** audio-outpaint: add extend_before_duration (0) and/or extend_after_duration (30) seconds. */
export const audioOutpaintInput = z
  .strictObject({
    audio: sourceAudioField,
    tags: tagsField,
    extend_before_duration: extensionField.default(0),
    extend_after_duration: extensionField.default(30),
    lyrics: lyricsField.optional(),
    seed: seedField,
  }, asInput)
  .refine((v) => v.extend_before_duration + v.extend_after_duration > 0, {
    path: ["extend_after_duration"],
    message: "extend_before_duration and extend_after_duration cannot both be 0: nothing would be generated",
  });

export type TextToAudioInput = z.output<typeof textToAudioInput>;
export type AudioInpaintInput = z.output<typeof audioInpaintInput>;
export type AudioOutpaintInput = z.output<typeof audioOutpaintInput>;
export type ModelInput = TextToAudioInput | AudioInpaintInput | AudioOutpaintInput;

export const MODEL_INPUT_SCHEMAS = {
  [TEXT_TO_AUDIO]: textToAudioInput,
  [TEXT_TO_AUDIO_15]: textToAudioInput,
  [AUDIO_INPAINT]: audioInpaintInput,
  [AUDIO_OUTPAINT]: audioOutpaintInput,
} as const satisfies Record<ModelId, z.ZodType>;

/** Validate a provider input for `model`, applying defaults. */
export function parseModelInput(model: ModelId, input: unknown) {
  return MODEL_INPUT_SCHEMAS[model].safeParse(input);
}
