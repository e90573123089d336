import { parseWavHeader } from "@acebatch/audio";

/** Exact length in seconds of a WAV held in memory, read from its chunks by the audio package's parser. */
export function wavDurationSeconds(bytes: Uint8Array): number {
  const parsed = parseWavHeader(bytes, bytes.byteLength);
  if (parsed.status !== "ok") throw new Error(`not a complete WAV (${parsed.status})`);
  return parsed.info.durationSeconds;
}
