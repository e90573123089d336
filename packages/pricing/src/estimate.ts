import {
  AUDIO_INPAINT,
  AUDIO_OUTPAINT,
  costForSeconds,
  MODEL_INPUT_SCHEMAS,
  takesSourceAudio,
  type AudioOutpaintInput,
  type ModelId,
  type TextToAudioInput,
} from "@acebatch/contracts";
import type { PriceTable } from "./prices.ts";

/** An estimate could not be made (bad input, or a source model without its source length). */
export class EstimateError extends Error {
  readonly code = "estimate_failed";
  constructor(message: string) {
    super(message);
    this.name = "EstimateError";
  }
}

/**
 * Seconds of audio a job will produce (what the provider bills): text-to-audio = `duration`;
 * inpaint = the source's length (it returns the whole track); outpaint = source + both extensions.
 * `input` is the job's input, raw or parsed (the contract's schema supplies defaults).
 */
export function estimateOutputSeconds(model: ModelId, input: unknown, sourceSeconds: number | null): number {
  const parsed = MODEL_INPUT_SCHEMAS[model].safeParse(input);
  if (!parsed.success) {
    throw new EstimateError(`cannot estimate ${model}: invalid input (${parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ")})`);
  }
  if (!takesSourceAudio(model)) return (parsed.data as TextToAudioInput).duration;
  if (sourceSeconds === null || !Number.isFinite(sourceSeconds) || sourceSeconds <= 0) {
    throw new EstimateError(`cannot estimate ${model}: the source track's length is unknown (measure it first; got ${sourceSeconds})`);
  }
  if (model === AUDIO_INPAINT) return sourceSeconds;
  if (model === AUDIO_OUTPAINT) {
    const { extend_before_duration, extend_after_duration } = parsed.data as AudioOutpaintInput;
    return sourceSeconds + extend_before_duration + extend_after_duration;
  }
  throw new EstimateError(`cannot estimate ${model}: no rule for this model`);
}

/** Cost in micro-dollars of `seconds` of `model` output at `prices`, rounded up to a whole micro-dollar. */
export function estimateCostMicroUsd(model: ModelId, seconds: number, prices: PriceTable): number {
  if (!Number.isFinite(seconds) || seconds < 0) throw new EstimateError(`cannot price ${seconds} seconds of audio`);
  return costForSeconds(seconds, prices[model]);
}
