import type { ModelId } from "./models.ts";

/**
 * Default provider prices in micro-dollars per second of output audio (the seed's figures:
 * $0.0002/s base, $0.0003/s for 1.5; inpaint and outpaint are unconfirmed and assumed at the base
 * rate). Operators override them through configuration.
 */
export const DEFAULT_PRICES_MICRO_USD_PER_SECOND: Readonly<Record<ModelId, number>> = {
  "acestep-ai/ace-step/text-to-audio": 200,
  "acestep-ai/ace-step-1.5/text-to-audio": 300,
  "acestep-ai/ace-step/audio-inpaint": 200,
  "acestep-ai/ace-step/audio-outpaint": 200,
};

/** Cost in micro-dollars of `seconds` of audio at `microUsdPerSecond`, rounded up to a whole micro-dollar. */
export function costForSeconds(seconds: number, microUsdPerSecond: number): number {
  return Math.ceil(Math.round(seconds * microUsdPerSecond * 1000) / 1000);
}
