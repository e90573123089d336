import { DEFAULT_PRICES_MICRO_USD_PER_SECOND, TEXT_TO_AUDIO, TEXT_TO_AUDIO_15 } from "@acebatch/contracts";
import { describe, expect, it } from "vitest";
import { loadPrices, parsePriceOverrides, PriceConfigError } from "./prices.ts";

describe("loadPrices", () => {
  it("defaults to the seed's prices and applies overrides", () => {
    expect(loadPrices()).toEqual(DEFAULT_PRICES_MICRO_USD_PER_SECOND);
    expect(loadPrices({ [TEXT_TO_AUDIO]: 250 })).toEqual({ ...DEFAULT_PRICES_MICRO_USD_PER_SECOND, [TEXT_TO_AUDIO]: 250 });
  });

  it("rejects unknown models and impossible prices", () => {
    expect(() => loadPrices({ "acestep-ai/nope": 1 } as never)).toThrow(/unknown model "acestep-ai\/nope"/);
    expect(() => loadPrices({ [TEXT_TO_AUDIO]: 0.5 })).toThrow(PriceConfigError);
  });
});

describe("parsePriceOverrides", () => {
  it("reads model=price pairs", () => {
    expect(parsePriceOverrides(undefined)).toEqual({});
    expect(parsePriceOverrides("  ")).toEqual({});
    expect(parsePriceOverrides("acestep-ai/ace-step/text-to-audio=200, acestep-ai/ace-step-1.5/text-to-audio = 300")).toEqual({
      [TEXT_TO_AUDIO]: 200,
      [TEXT_TO_AUDIO_15]: 300,
    });
  });

  it("names the bad entry", () => {
    expect(() => parsePriceOverrides("acestep-ai/ace-step/text-to-audio=200,acestep-ai/ace-step/typo=3")).toThrow(
      /PRICES_MICRO_USD_PER_SECOND entry 2 \("acestep-ai\/ace-step\/typo=3"\): unknown model/,
    );
    expect(() => parsePriceOverrides("acestep-ai/ace-step/text-to-audio=0.0002")).toThrow(/entry 1 .*whole number of micro-dollars per second/);
    expect(() => parsePriceOverrides("acestep-ai/ace-step/text-to-audio")).toThrow(/expected <model>=<micro-dollars per second>/);
    expect(() => parsePriceOverrides("acestep-ai/ace-step/text-to-audio=200,")).toThrow(/entry 2 .*empty entry/);
    expect(() => parsePriceOverrides("acestep-ai/ace-step/text-to-audio=2,acestep-ai/ace-step/text-to-audio=3")).toThrow(/priced twice/);
    expect(() => parsePriceOverrides("acestep-ai/ace-step/text-to-audio=99999999")).toThrow(/between 0 and 1000000/);
    expect(() => parsePriceOverrides("x=1", "MY_PRICES")).toThrow(/^MY_PRICES entry 1/);
  });
});
