import { describe, expect, it } from "vitest";

import { finishSpecSchema } from "@acebatch/contracts";

const issues = (input: unknown) => {
  const parsed = finishSpecSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("finishSpecSchema", () => {
  it("accepts each option and applies the true-peak default", () => {
    expect(finishSpecSchema.parse({ loop: true })).toEqual({ loop: true, true_peak_db: -1 });
    expect(finishSpecSchema.parse({ loop: { bars: 4, bpm: 120 }, loudness_lufs: -14 })).toEqual({
      loop: { bars: 4, bpm: 120 },
      loudness_lufs: -14,
      true_peak_db: -1,
    });
    expect(finishSpecSchema.parse({ fade_out_seconds: 2.5, formats: ["mp3", "ogg"] }).formats).toEqual(["mp3", "ogg"]);
  });

  it("requires at least one option", () => {
    expect(issues({})).toEqual([expect.stringMatching(/^: finish must ask for something: set loop, fade_in_seconds/)]);
    expect(issues({ loop: false, fade_in_seconds: 0, formats: [], true_peak_db: -2 })).toHaveLength(1);
  });

  it("rejects fades on a loop, naming the fade", () => {
    expect(issues({ loop: { bars: 8 }, fade_out_seconds: 1 })).toEqual([
      "fade_out_seconds: fade_out_seconds cannot be combined with loop: a looping file must not fade (it would dip at every repeat)",
    ]);
    expect(issues({ loop: true, fade_in_seconds: 0 })).toEqual([]);
  });

  it("gives clear messages for out-of-range and unknown fields", () => {
    expect(
      issues({ loop: { bars: 0, bpm: 300 }, loudness_lufs: -3, true_peak_db: 1, fade_in_seconds: 31, formats: ["mp3", "mp3"], gain: 2 }),
    ).toEqual(
      expect.arrayContaining([
        "loop.bars: loop.bars must be at least 1",
        "loop.bpm: loop.bpm must be at most 240",
        "loudness_lufs: loudness_lufs must be at most -5 LUFS",
        "true_peak_db: true_peak_db must be at most 0 dBTP",
        "fade_in_seconds: fade_in_seconds must be at most 30 seconds",
        "formats: formats must not repeat a format",
      ]),
    );
    expect(issues({ formats: ["aac"] })).toEqual(['formats.0: formats entries must be "wav", "flac", "mp3" or "ogg"']);
    expect(issues({ loop: "yes" })).toEqual(['loop: loop must be true, false or an object {"bars"?, "bpm"?}']);
    expect(issues({ formats: ["mp3"], extra: 1 })).toEqual([expect.stringMatching(/extra/)]);
  });
});
