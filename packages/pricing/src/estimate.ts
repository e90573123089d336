import {
  AUDIO_INPAINT,
  AUDIO_OUTPAINT,
  costForSeconds,
  MAX_OUTPUT_SECONDS,
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
 * The input asks for more audio than one provider call produces: an outpaint whose source plus
 * extensions passes 240 s (the provider's limit). Rejected before anything is reserved or sent.
 */
export class OutputTooLongError extends EstimateError {
  /** The input field to shorten. */
  readonly field = "extend_after_duration";
  constructor(message: string) {
    super(message);
    this.name = "OutputTooLongError";
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
    const total = sourceSeconds + extend_before_duration + extend_after_duration;
    if (total > MAX_OUTPUT_SECONDS) {
      throw new OutputTooLongError(
        `the extended track would be ${Math.round(total * 10) / 10} s (source ${Math.round(sourceSeconds * 10) / 10} s + ${extend_before_duration} s before + ${extend_after_duration} s after); the provider keeps outpaint results at or under ${MAX_OUTPUT_SECONDS} s: shorten the extensions`,
      );
    }
    return total;
  }
  throw new EstimateError(`cannot estimate ${model}: no rule for this model`);
}

/** Cost in micro-dollars of `seconds` of `model` output at `prices`, rounded up to a whole micro-dollar. */
export function estimateCostMicroUsd(model: ModelId, seconds: number, prices: PriceTable): number {
  if (!Number.isFinite(seconds) || seconds < 0) throw new EstimateError(`cannot price ${seconds} seconds of audio`);
  return costForSeconds(seconds, prices[model]);
}
