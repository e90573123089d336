import { AUDIO_INPAINT, AUDIO_OUTPAINT, TEXT_TO_AUDIO, TEXT_TO_AUDIO_15 } from "@acebatch/contracts";
import { describe, expect, it } from "vitest";
import { estimateCostMicroUsd, estimateOutputSeconds, EstimateError, OutputTooLongError } from "./estimate.ts";
import { loadPrices } from "./prices.ts";

const prices = loadPrices();
const source = "https://cdn.example.com/song.wav";

describe("estimateOutputSeconds", () => {
  it("uses duration for both text-to-audio models, with the schema's default of 60", () => {
    expect(estimateOutputSeconds(TEXT_TO_AUDIO, { tags: "lo-fi", duration: 10 }, null)).toBe(10);
    expect(estimateOutputSeconds(TEXT_TO_AUDIO_15, { tags: "lo-fi" }, null)).toBe(60);
  });

  it("uses the source length for inpaint (the whole track comes back)", () => {
    expect(estimateOutputSeconds(AUDIO_INPAINT, { audio: source, tags: "rock", start_time: 5, end_time: 10 }, 93.5)).toBe(93.5);
  });

  it("adds both extensions to the source for outpaint, with the schema's defaults (0 before, 30 after)", () => {
    expect(estimateOutputSeconds(AUDIO_OUTPAINT, { audio: source, tags: "rock", extend_before_duration: 4, extend_after_duration: 12.5 }, 40)).toBe(56.5);
    expect(estimateOutputSeconds(AUDIO_OUTPAINT, { audio: source, tags: "rock" }, 40)).toBe(70);
  });

  it("refuses an outpaint result over the provider's 240 s", () => {
    expect(estimateOutputSeconds(AUDIO_OUTPAINT, { audio: source, tags: "rock", extend_before_duration: 10, extend_after_duration: 30 }, 200)).toBe(240);
    expect(() => estimateOutputSeconds(AUDIO_OUTPAINT, { audio: source, tags: "rock", extend_before_duration: 10, extend_after_duration: 30 }, 200.5)).toThrow(OutputTooLongError);
  });

  it("refuses to guess a source model's length", () => {
    expect(() => estimateOutputSeconds(AUDIO_INPAINT, { audio: source, tags: "rock" }, null)).toThrow(EstimateError);
    expect(() => estimateOutputSeconds(AUDIO_OUTPAINT, { audio: source, tags: "rock" }, Number.NaN)).toThrow(/source track's length is unknown/);
  });

  it("names invalid input", () => {
    expect(() => estimateOutputSeconds(TEXT_TO_AUDIO, { tags: "x", duration: 500 }, null)).toThrow(/duration: duration must be at most 240/);
  });
});

describe("estimateCostMicroUsd", () => {
  it("prices seconds at the model's rate, rounding up to a whole micro-dollar (as the simulator bills)", () => {
    expect(estimateCostMicroUsd(TEXT_TO_AUDIO, 10, prices)).toBe(2_000);
    expect(estimateCostMicroUsd(TEXT_TO_AUDIO_15, 10, prices)).toBe(3_000);
    expect(estimateCostMicroUsd(AUDIO_INPAINT, 93.5, prices)).toBe(18_700);
    expect(estimateCostMicroUsd(AUDIO_OUTPAINT, 60.000_25, prices)).toBe(12_001);
  });
});
