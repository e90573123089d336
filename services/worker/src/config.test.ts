import { MAX_SOURCE_SECONDS } from "@acebatch/pricing";
import { describe, expect, it } from "vitest";
import { loadWorkerConfig } from "./config.ts";

describe("worker configuration defaults", () => {
  it("let the copy of an inpaint of the longest source the provider takes (48 kHz stereo 16-bit WAV) through the download cap", () => {
    const longestInpaintWavBytes = 44 + MAX_SOURCE_SECONDS * 48_000 * 2 * 2;
    expect(loadWorkerConfig({}).download.maxBytes).toBeGreaterThanOrEqual(longestInpaintWavBytes);
  });
});
