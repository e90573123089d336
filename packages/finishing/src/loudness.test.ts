import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { finishAudio } from "./finish-audio.ts";
import { measureLoudness } from "./loudness.ts";
import { lavfiTrack, makeTempDir, sha256, synthTrack } from "./test-audio.ts";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir("loudness"));
});
afterEach(async () => {
  await cleanup();
});

describe("loudness_lufs", () => {
  it("brings drafts at very different levels to -14 LUFS, as ebur128 measures them", async () => {
    const groove = await synthTrack(join(dir, "groove.wav"), { durationSeconds: 15, seed: 21, tags: "house, 124 BPM" });
    const drafts = {
      quietGroove: await lavfiTrack(join(dir, "quiet.wav"), `amovie=${groove}`, "volume=-26dB"),
      loudNoise: await lavfiTrack(join(dir, "noise.wav"), "anoisesrc=color=white:amplitude=0.8:sample_rate=48000:duration=12:seed=9"),
      midTone: await lavfiTrack(join(dir, "tone.wav"), "sine=frequency=220:sample_rate=44100:duration=10"),
    };
    const before: Record<string, number> = {};
    for (const [name, path] of Object.entries(drafts)) before[name] = (await measureLoudness(path)).integratedLufs;
    // The drafts really differ: over 25 LU between the quietest and the loudest.
    expect(Math.max(...Object.values(before)) - Math.min(...Object.values(before))).toBeGreaterThan(25);

    for (const [name, path] of Object.entries(drafts)) {
      const hash = await sha256(path);
      const result = await finishAudio({ inputPath: path, outputDir: join(dir, `out-${name}`), spec: { loudness_lufs: -14 } });
      const after = await measureLoudness(result.finished.path);
      console.info(`${name}: ${before[name]} LUFS → ${after.integratedLufs} LUFS, true peak ${after.truePeakDb} dBTP (${result.loudnessMode})`);
      expect(Math.abs(after.integratedLufs - -14)).toBeLessThanOrEqual(0.5);
      expect(after.truePeakDb).toBeLessThanOrEqual(-1 + 0.2);
      expect(result.loudnessLufs).toBe(after.integratedLufs);
      expect(await sha256(path)).toBe(hash);
    }
  });

  it("honours a lower true-peak ceiling", async () => {
    const input = await synthTrack(join(dir, "groove.wav"), { durationSeconds: 10, seed: 2, tags: "100 BPM" });
    const result = await finishAudio({ inputPath: input, outputDir: join(dir, "out"), spec: { loudness_lufs: -16, true_peak_db: -6 } });
    const after = await measureLoudness(result.finished.path);
    expect(after.truePeakDb).toBeLessThanOrEqual(-6 + 0.2);
  });

  it("refuses to normalise silence", async () => {
    const input = await lavfiTrack(join(dir, "silence.wav"), "anullsrc=sample_rate=48000:channel_layout=stereo:duration=5");
    await expect(finishAudio({ inputPath: input, outputDir: join(dir, "out"), spec: { loudness_lufs: -14 } })).rejects.toMatchObject({
      name: "FinishError",
      code: "unfinishable_input",
      message: expect.stringMatching(/the audio is silent/),
    });
  });
});

describe("measureLoudness", () => {
  it("reads integrated loudness and true peak of a full-scale-referenced tone", async () => {
    // lavfi's sine is 1/8 of full scale, so ×0.8 makes a 1 kHz sine peaking at -20 dBFS: mono, it
    // measures -23.0 LUFS (BS.1770: a 0 dBFS sine reads -3.01 LUFS) and -20 dBTP.
    const input = await lavfiTrack(join(dir, "tone.wav"), "sine=frequency=1000:sample_rate=48000:duration=5", "volume=0.8,aformat=channel_layouts=mono");
    const measured = await measureLoudness(input);
    expect(measured.integratedLufs).toBeCloseTo(-23, 0);
    expect(measured.truePeakDb).toBeCloseTo(-20, 0);
  });

  it("reports silence as -Infinity", async () => {
    const input = await lavfiTrack(join(dir, "silence.wav"), "anullsrc=sample_rate=48000:duration=2");
    expect((await measureLoudness(input)).integratedLufs).toBe(-Infinity);
  });
});
