const BPM_AFTER = /(\d{2,3}(?:\.\d+)?)\s*-?\s*bpm\b/i;
const BPM_BEFORE = /\bbpm\s*[:=]?\s*(\d{2,3}(?:\.\d+)?)/i;

/** Tempos outside this range are treated as not being a tempo. */
export const MIN_BPM = 20;
export const MAX_BPM = 300;

/**
 * The tempo named in a tags string, in beats per minute: "120 BPM", "120bpm", "bpm 90", "BPM: 128".
 * Returns null when there is none or it is outside 20–300.
 */
export function parseBpmTag(tags: string): number | null {
  const match = BPM_AFTER.exec(tags) ?? BPM_BEFORE.exec(tags);
  if (match === null) return null;
  const bpm = Number(match[1]);
  return Number.isFinite(bpm) && bpm >= MIN_BPM && bpm <= MAX_BPM ? bpm : null;
}
