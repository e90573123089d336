import { AUDIO_INPAINT, AUDIO_OUTPAINT, type ModelId } from "@acebatch/contracts";

/**
 * Seconds of audio a job is expected to produce, from its input alone (source lengths are not known
 * here; inpaint/outpaint fall back to what the input says plus a nominal source of 60 s). Used for
 * poll timing, never for money.
 */
export function expectedOutputSeconds(model: ModelId, input: Record<string, unknown>): number {
  const num = (v: unknown, fallback: number) => (typeof v === "number" && Number.isFinite(v) ? v : fallback);
  if (model === AUDIO_OUTPAINT) return 60 + num(input.extend_before_duration, 0) + num(input.extend_after_duration, 30);
  if (model === AUDIO_INPAINT) return 60;
  return num(input.duration, 60);
}
