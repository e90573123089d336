import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { resolveTools } from "./ffmpeg.ts";
import { finishAudio } from "./finish-audio.ts";
import { FinishError } from "./finish-error.ts";
import { planLoop } from "./loop.ts";
import { detectTempo } from "./tempo.ts";
import { lavfiTrack, makeTempDir, readPcm16Wav, seamJumps, synthTrack } from "./test-audio.ts";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir("loop"));
});
afterEach(async () => {
  await cleanup();
});

describe("finishAudio loop", () => {
  it("cuts a 4-bar loop at 120 BPM to exactly 8.000 s with no click at the seam", async () => {
    const input = await synthTrack(join(dir, "draft.wav"), { durationSeconds: 12, sampleRate: 48_000, seed: 11, tags: "chiptune, 120 BPM" });
    const result = await finishAudio({ inputPath: input, outputDir: join(dir, "out"), spec: { loop: { bars: 4 } }, tags: "chiptune, 120 BPM" });

    expect(result.loop).toEqual({ bars: 4, bpm: 120, bpmSource: "tags", seconds: 8, frames: 384_000 });
    const pcm = await readPcm16Wav(result.finished.path);
    expect(pcm.sampleRate).toBe(48_000);
    expect(pcm.frames).toBe(384_000);
    expect(pcm.frames / pcm.sampleRate).toBe(8);
    const { seam, maxInside } = seamJumps(pcm);
    console.info(`seam jump ${seam}, largest jump inside ${maxInside} (16-bit steps)`);
    expect(seam).toBeLessThanOrEqual(maxInside);
  });

  it("makes a tone that is not periodic in the loop length seamless, where a plain cut clicks", async () => {
    // 440.03125 Hz runs 3520.25 cycles in 8 s: a plain 8 s cut jumps from a crest to zero.
    const input = await lavfiTrack(join(dir, "tone.wav"), "sine=frequency=440.03125:sample_rate=48000:duration=9", "volume=0.5");
    const plain = seamJumps({ ...(await readPcm16Wav(input)), frames: 384_000 });
    expect(plain.seam).toBeGreaterThan(plain.maxInside * 5);

    const result = await finishAudio({ inputPath: input, outputDir: join(dir, "out"), spec: { loop: { bars: 4, bpm: 120 } } });
    const pcm = await readPcm16Wav(result.finished.path);
    expect(pcm.frames).toBe(384_000);
    const { seam, maxInside } = seamJumps(pcm);
    console.info(`tone: plain cut seam ${plain.seam} vs max ${plain.maxInside}; finished seam ${seam} vs max ${maxInside}`);
    expect(seam).toBeLessThanOrEqual(maxInside);
    // The equal-power fade keeps the level: no dip or bulge beyond 1 dB around the head.
    expect(maxInside).toBeLessThan(plain.maxInside * 1.12);
  });

  it("detects the tempo when neither the spec nor the tags give one, and fits the most whole bars", async () => {
    const input = await synthTrack(join(dir, "draft.wav"), { durationSeconds: 13, seed: 5, tags: "lofi, 120 BPM" });
    const result = await finishAudio({ inputPath: input, outputDir: join(dir, "out"), spec: { loop: true } });
    // 13 s holds 6 bars of 2 s (12 s) plus the crossfade material.
    expect(result.loop).toEqual({ bars: 6, bpm: 120, bpmSource: "detected", seconds: 12, frames: 576_000 });
    expect(result.finished.durationSeconds).toBe(12);
  });

  it("keeps a loop seamless and exactly its bars through loudnorm's dynamic mode", async () => {
    const input = await synthTrack(join(dir, "draft.wav"), { durationSeconds: 10, seed: 3, tags: "120 BPM" });
    // -12 LUFS would put this groove's true peak over -1 dBTP: loudnorm has to limit (dynamic mode,
    // resampling to 192 kHz and back), the case where the loop is processed tiled.
    const result = await finishAudio({
      inputPath: input,
      outputDir: join(dir, "out"),
      spec: { loop: { bars: 4 }, loudness_lufs: -12 },
      tags: "120 BPM",
    });
    expect(result.loudnessMode).toBe("dynamic");
    const pcm = await readPcm16Wav(result.finished.path);
    expect(pcm.frames).toBe(384_000);
    const { seam, maxInside } = seamJumps(pcm);
    console.info(`normalised loop (${result.loudnessMode}): seam ${seam} vs max ${maxInside}, ${result.loudnessLufs} LUFS`);
    expect(seam).toBeLessThanOrEqual(maxInside);
    expect(Math.abs(result.loudnessLufs! - -12)).toBeLessThanOrEqual(0.5);
    expect(result.truePeakDb).toBeLessThanOrEqual(-0.9);
  });

  it("keeps a tone seamless when loudnorm has to limit it (the loop is normalised tiled)", async () => {
    const input = await lavfiTrack(join(dir, "tone.wav"), "sine=frequency=440.03125:sample_rate=48000:duration=9", "volume=0.5");
    const result = await finishAudio({
      inputPath: input,
      outputDir: join(dir, "out"),
      spec: { loop: { bars: 4, bpm: 120 }, loudness_lufs: -5, true_peak_db: -3 },
    });
    expect(result.loudnessMode).toBe("dynamic");
    const pcm = await readPcm16Wav(result.finished.path);
    expect(pcm.frames).toBe(384_000);
    const { seam, maxInside } = seamJumps(pcm);
    console.info(`limited tone loop: seam ${seam} vs max ${maxInside}, true peak ${result.truePeakDb} dBTP`);
    expect(seam).toBeLessThanOrEqual(maxInside);
    expect(result.truePeakDb).toBeLessThanOrEqual(-2.9);
  });

  it("refuses a loop longer than the track with a message naming what fits", async () => {
    const input = await synthTrack(join(dir, "draft.wav"), { durationSeconds: 5, tags: "120 BPM" });
    const failure = finishAudio({ inputPath: input, outputDir: join(dir, "out"), spec: { loop: { bars: 4 } }, tags: "120 BPM" });
    await expect(failure).rejects.toBeInstanceOf(FinishError);
    await expect(failure).rejects.toThrow(/5\.000 s: a loop of 4 bar\(s\) at 120 BPM needs 8\.020 s .*at most 2 bar\(s\) fit/);
  });
});

describe("detectTempo", () => {
  it.each([90, 128, 140])("finds %i BPM in a synthesized groove", async (bpm) => {
    const input = await synthTrack(join(dir, `groove-${bpm}.wav`), { durationSeconds: 20, seed: bpm, tags: `${bpm} BPM` });
    expect(await detectTempo(await resolveTools(), input)).toBe(bpm);
  });

  it("finds no tempo in steady noise", async () => {
    const input = await lavfiTrack(join(dir, "noise.wav"), "anoisesrc=color=pink:sample_rate=48000:duration=10:seed=4");
    expect(await detectTempo(await resolveTools(), input)).toBeNull();
  });
});

describe("planLoop", () => {
  it("rounds the loop to the nearest frame and reports the exact seconds", () => {
    const plan = planLoop({ totalFrames: 44_100 * 30, sampleRate: 44_100, bpm: 97, bars: 8 });
    // 8 bars × 4 beats × 60 / 97 = 19.7938… s = 872907.2… frames.
    expect(plan.loopFrames).toBe(872_907);
    expect(plan.seconds).toBe(872_907 / 44_100);
  });

  it("takes the largest whole number of bars, capped at 64", () => {
    expect(planLoop({ totalFrames: 48_000 * 17, sampleRate: 48_000, bpm: 120 }).bars).toBe(8);
    expect(planLoop({ totalFrames: 48_000 * 240, sampleRate: 48_000, bpm: 240 }).bars).toBe(64);
  });
});
