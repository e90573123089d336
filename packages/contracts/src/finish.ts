import { z } from "zod";

/**
 * The optional `finish` block of a job, batch row or schedule template: what the audio finishing
 * toolchain does to the stored output. It is kept apart from the provider `input` (the provider
 * never sees it), and the original output is always kept untouched beside the finished file.
 */

export const FINISH_FORMATS = ["wav", "flac", "mp3", "ogg"] as const;
export type FinishFormat = (typeof FINISH_FORMATS)[number];

export const MAX_LOOP_BARS = 64;
export const MIN_LOOP_BPM = 40;
export const MAX_LOOP_BPM = 240;
export const MAX_FADE_SECONDS = 30;

export const finishFormatField = z.enum(FINISH_FORMATS, { error: 'formats entries must be "wav", "flac", "mp3" or "ogg"' });

/** Loop length in 4/4 bars, 1–64; without it the largest whole number of bars that fits is used. */
export const loopBarsField = z
  .int({ error: "loop.bars must be a whole number of bars" })
  .min(1, "loop.bars must be at least 1")
  .max(MAX_LOOP_BARS, `loop.bars must be at most ${MAX_LOOP_BARS}`);

/** Tempo in beats per minute, 40–240; without it the tags' BPM tag is used, else it is detected. */
export const loopBpmField = z
  .number({ error: "loop.bpm must be a number of beats per minute" })
  .min(MIN_LOOP_BPM, `loop.bpm must be at least ${MIN_LOOP_BPM}`)
  .max(MAX_LOOP_BPM, `loop.bpm must be at most ${MAX_LOOP_BPM}`);

export const loopField = z.union(
  [
    z.boolean(),
    z.strictObject({ bars: loopBarsField.optional(), bpm: loopBpmField.optional() }),
  ],
  { error: 'loop must be true, false or an object {"bars"?, "bpm"?}' },
);

function fadeSecondsField(name: string) {
  return z
    .number({ error: `${name} must be a number of seconds` })
    .min(0, `${name} must be at least 0 seconds`)
    .max(MAX_FADE_SECONDS, `${name} must be at most ${MAX_FADE_SECONDS} seconds`);
}

/** Integrated-loudness target in LUFS (EBU R128 / ITU-R BS.1770), -40…-5; e.g. -14 for streaming. */
export const loudnessLufsField = z
  .number({ error: "loudness_lufs must be a number (LUFS, e.g. -14)" })
  .min(-40, "loudness_lufs must be at least -40 LUFS")
  .max(-5, "loudness_lufs must be at most -5 LUFS");

/** True-peak ceiling in dBTP applied with loudness normalisation, -9…0, default -1. */
export const truePeakDbField = z
  .number({ error: "true_peak_db must be a number (dBTP, e.g. -1)" })
  .min(-9, "true_peak_db must be at least -9 dBTP")
  .max(0, "true_peak_db must be at most 0 dBTP")
  .default(-1);

export const finishFormatsField = z
  .array(finishFormatField, { error: 'formats must be an array such as ["mp3", "ogg"]' })
  .max(FINISH_FORMATS.length, `formats may list at most ${FINISH_FORMATS.length} formats`)
  .refine((formats) => new Set(formats).size === formats.length, "formats must not repeat a format");

const OPTION_NAMES = "loop, fade_in_seconds, fade_out_seconds, loudness_lufs or formats";

export const finishSpecSchema = z
  .strictObject({
    loop: loopField.optional(),
    fade_in_seconds: fadeSecondsField("fade_in_seconds").optional(),
    fade_out_seconds: fadeSecondsField("fade_out_seconds").optional(),
    loudness_lufs: loudnessLufsField.optional(),
    true_peak_db: truePeakDbField,
    formats: finishFormatsField.optional(),
  })
  .superRefine((v, ctx) => {
    const looping = v.loop !== undefined && v.loop !== false;
    const fadeIn = (v.fade_in_seconds ?? 0) > 0;
    const fadeOut = (v.fade_out_seconds ?? 0) > 0;
    if (!looping && !fadeIn && !fadeOut && v.loudness_lufs === undefined && (v.formats ?? []).length === 0) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: `finish must ask for something: set ${OPTION_NAMES} (fades of 0 seconds and loop: false do nothing)`,
      });
    }
    // A fade in a loop would dip at every repeat: the seam is made seamless by the crossfade instead.
    for (const [on, key] of [[fadeIn, "fade_in_seconds"], [fadeOut, "fade_out_seconds"]] as const) {
      if (looping && on) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `${key} cannot be combined with loop: a looping file must not fade (it would dip at every repeat)`,
        });
      }
    }
  });

/** A validated finish block (defaults applied). */
export type FinishSpec = z.output<typeof finishSpecSchema>;
/** A finish block as a client sends it. */
export type FinishSpecInput = z.input<typeof finishSpecSchema>;
