import { describe, expect, it } from "vitest";

import { createPeakAccumulator } from "./waveform-peaks.ts";

/** The definition, sample by sample: frame f goes to column min(columns - 1, floor(f × columns / frames)). */
function naivePeaks(samples: number[], columns: number, frames: number, channels: number): [number, number][] {
  const out: [number, number][] = Array.from({ length: columns }, () => [Infinity, -Infinity]);
  samples.forEach((v, i) => {
    const column = Math.min(columns - 1, Math.floor((Math.floor(i / channels) * columns) / Math.max(1, frames)));
    out[column]![0] = Math.min(out[column]![0], v);
    out[column]![1] = Math.max(out[column]![1], v);
  });
  return out.map(([lo, hi]) => (lo === Infinity ? [0, 0] : [Math.round(lo * 1000) / 1000 || 0, Math.round(hi * 1000) / 1000 || 0]));
}

describe("createPeakAccumulator", () => {
  it.each([
    { frames: 1_000, columns: 7, channels: 2, chunk: 333 },
    { frames: 5, columns: 12, channels: 1, chunk: 2 }, // fewer frames than columns: empty columns between
    { frames: 48_000, columns: 800, channels: 2, chunk: 4_096 },
    { frames: 997, columns: 997, channels: 3, chunk: 1 },
  ])("matches the per-sample definition ($frames frames, $columns columns, $channels ch, chunks of $chunk)", ({ frames, columns, channels, chunk }) => {
    let seed = 7;
    const samples = Array.from({ length: frames * channels + channels * 3 }, () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 1_073_741_824 - 1;
    });
    const accumulator = createPeakAccumulator(columns, frames, channels);
    for (let i = 0; i < samples.length; i += chunk) accumulator.add(samples.slice(i, i + chunk));
    const result = accumulator.result(48_000);
    expect(result.peaks).toEqual(naivePeaks(samples, columns, frames, channels));
    expect(result.durationSeconds).toBe((frames + 3) / 48_000);
  });

  it("applies the scale of integer samples", () => {
    const accumulator = createPeakAccumulator(2, 2, 1);
    accumulator.add(new Int16Array([-32_768, 16_384]), 2, 1 / 32_768);
    expect(accumulator.result(1).peaks).toEqual([[-1, -1], [0.5, 0.5]]);
  });
});
