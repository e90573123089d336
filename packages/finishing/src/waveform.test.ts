import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { wavPeaks } from "@acebatch/audio";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { finishAudio } from "./finish-audio.ts";
import { makeTempDir, lavfiTrack, synthTrack } from "./test-audio.ts";
import { waveformPeaks } from "./waveform.ts";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir("waveform"));
});
afterEach(async () => {
  await cleanup();
});

describe("waveformPeaks", () => {
  it("gives one [min, max] per column in -1…1 with 3 decimals, following the level of the audio", async () => {
    // 2 s of a sine at 1/8 full scale, then 2 s of silence, then 2 s of a sine at 3/4 full scale.
    const input = await lavfiTrack(
      join(dir, "steps.wav"),
      "sine=frequency=100:sample_rate=48000:duration=6",
      "volume='if(lt(t,2),1,if(lt(t,4),0,6))':eval=frame",
    );
    const waveform = await waveformPeaks(input, { columns: 60 });
    expect(waveform).toMatchObject({ columns: 60, sampleRate: 48_000, durationSeconds: 6 });
    expect(waveform.peaks).toHaveLength(60);
    for (const [min, max] of waveform.peaks) {
      expect(min).toBeGreaterThanOrEqual(-1);
      expect(max).toBeLessThanOrEqual(1);
      expect(min).toBeLessThanOrEqual(max);
      expect(Math.round(min * 1000) / 1000).toBe(min);
      expect(Math.round(max * 1000) / 1000).toBe(max);
    }
    // Each column is 0.1 s: ten cycles of the 100 Hz sine, so it holds both crests.
    expect(waveform.peaks[5]![0]).toBeCloseTo(-0.125, 2);
    expect(waveform.peaks[5]![1]).toBeCloseTo(0.125, 2);
    expect(waveform.peaks[30]).toEqual([0, 0]);
    expect(waveform.peaks[55]![0]).toBeCloseTo(-0.75, 2);
    expect(waveform.peaks[55]![1]).toBeCloseTo(0.75, 2);
  });

  it("defaults to 800 columns and reads the compressed renditions too", async () => {
    const input = await lavfiTrack(join(dir, "tone.wav"), "sine=frequency=440:sample_rate=44100:duration=4");
    const result = await finishAudio({ inputPath: input, outputDir: join(dir, "out"), spec: { formats: ["mp3", "ogg"] } });
    for (const rendition of [result.formats.mp3!, result.formats.ogg!]) {
      const waveform = await waveformPeaks(rendition.path);
      expect(waveform.columns).toBe(800);
      expect(waveform.peaks).toHaveLength(800);
      expect(waveform.durationSeconds).toBeCloseTo(4, 3);
      // Every column holds audio (none left empty by a duration estimate).
      expect(waveform.peaks.slice(1, -1).every(([min, max]) => min < -0.1 && max > 0.1)).toBe(true);
    }
  });

  it("rejects a column count out of range", async () => {
    await expect(waveformPeaks(join(dir, "x.wav"), { columns: 0 })).rejects.toThrow(/columns must be a whole number 1–10000/);
  });
});

describe("wavPeaks (in-process, no ffmpeg) agrees with ffmpeg's waveformPeaks", () => {
  it.each([
    ["16-bit PCM", "pcm_s16le"],
    ["24-bit PCM", "pcm_s24le"],
    ["32-bit float", "pcm_f32le"],
    ["8-bit unsigned PCM", "pcm_u8"],
  ])("%s", async (_label, codec) => {
    const source = await synthTrack(join(dir, "groove.wav"), { durationSeconds: 3.3, tags: "140 BPM", sampleRate: 44_100 });
    const input = join(dir, `groove-${codec}.wav`);
    await promisify(execFile)("ffmpeg", ["-hide_banner", "-nostdin", "-y", "-i", source, "-c:a", codec, input]);
    const ours = await wavPeaks(input, { columns: 333 });
    const theirs = await waveformPeaks(input, { columns: 333 });
    expect(ours).not.toBeNull();
    expect(ours!.sampleRate).toBe(theirs.sampleRate);
    expect(ours!.durationSeconds).toBeCloseTo(theirs.durationSeconds, 6);
    // Same columns; values may differ only by the last rounding step.
    expect(ours!.peaks).toHaveLength(333);
    ours!.peaks.forEach(([min, max], i) => {
      expect(Math.abs(min - theirs.peaks[i]![0])).toBeLessThanOrEqual(0.001);
      expect(Math.abs(max - theirs.peaks[i]![1])).toBeLessThanOrEqual(0.001);
    });
    expect(ours!.peaks.some(([min, max]) => min < -0.1 && max > 0.1)).toBe(true);
  });

  it("leaves encodings it does not decode to ffmpeg and rejects a truncated file", async () => {
    const alaw = join(dir, "alaw.wav");
    await lavfiTrack(join(dir, "tone.wav"), "sine=frequency=440:sample_rate=8000:duration=1");
    await promisify(execFile)("ffmpeg", ["-hide_banner", "-nostdin", "-y", "-i", join(dir, "tone.wav"), "-c:a", "pcm_alaw", alaw]);
    await expect(wavPeaks(alaw)).resolves.toBeNull();

    const truncated = join(dir, "truncated.wav");
    const header = Buffer.alloc(44);
    header.write("RIFF", 0, "ascii");
    header.writeUInt32LE(36 + 1_000, 4);
    header.write("WAVEfmt ", 8, "ascii");
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20);
    header.writeUInt16LE(1, 22);
    header.writeUInt32LE(8_000, 24);
    header.writeUInt32LE(16_000, 28);
    header.writeUInt16LE(2, 32);
    header.writeUInt16LE(16, 34);
    header.write("data", 36, "ascii");
    header.writeUInt32LE(1_000, 40);
    await writeFile(truncated, Buffer.concat([header, Buffer.alloc(100)]));
    await expect(wavPeaks(truncated)).rejects.toThrow(/truncated WAV/);
  });
});
