import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { detectAudioFormat } from "@acebatch/audio";

import { finishAudio } from "./finish-audio.ts";
import { FinishError } from "./finish-error.ts";
import { decodeIndependently, lavfiTrack, makeTempDir, readPcm16Wav, sha256, synthTrack } from "./test-audio.ts";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir("finish"));
});
afterEach(async () => {
  await cleanup();
});

describe("finishAudio formats", () => {
  it("produces every requested format, each decoding to the finished duration ±1 frame", async () => {
    const input = await synthTrack(join(dir, "draft.wav"), { durationSeconds: 7.3, sampleRate: 44_100, seed: 8, tags: "110 BPM" });
    const outputDir = join(dir, "out");
    const result = await finishAudio({ inputPath: input, outputDir, spec: { formats: ["mp3", "ogg", "flac", "wav"] } });

    expect(result.finished).toMatchObject({ path: join(outputDir, "finished.wav"), format: "wav", sampleRate: 44_100, frames: 321_930 });
    expect(Object.keys(result.formats).sort()).toEqual(["flac", "mp3", "ogg", "wav"]);
    expect((await readdir(outputDir)).sort()).toEqual(["finished.flac", "finished.mp3", "finished.ogg", "finished.wav"]);
    for (const [format, rendition] of Object.entries(result.formats)) {
      expect(rendition.path).toBe(join(outputDir, `finished.${format}`));
      const head = (await readFile(rendition.path)).subarray(0, 12);
      expect(detectAudioFormat(head)).toEqual({ format, contentType: rendition.contentType });
      const decoded = await decodeIndependently(rendition.path);
      console.info(`${format}: ${rendition.bytes} bytes, decodes to ${decoded.frames} frames at ${decoded.sampleRate} Hz`);
      expect(Math.abs(decoded.frames / decoded.sampleRate - 7.3)).toBeLessThanOrEqual(1 / decoded.sampleRate);
      expect(rendition.durationSeconds).toBeCloseTo(7.3, 4);
    }
  });

  it("delivers MP3 at 48 kHz when the track's rate is one MP3 cannot carry", async () => {
    const input = await lavfiTrack(join(dir, "hi-res.wav"), "sine=frequency=440:sample_rate=96000:duration=3");
    const result = await finishAudio({ inputPath: input, outputDir: join(dir, "out"), spec: { formats: ["mp3"] } });
    const decoded = await decodeIndependently(result.formats.mp3!.path);
    expect(decoded.sampleRate).toBe(48_000);
    expect(Math.abs(decoded.frames - 144_000)).toBeLessThanOrEqual(1);
  });
});

describe("finishAudio fades", () => {
  it("fades a jingle in and out to near silence at both ends", async () => {
    const input = await synthTrack(join(dir, "jingle.wav"), { durationSeconds: 6, seed: 4, tags: "jingle, 120 BPM" });
    const result = await finishAudio({ inputPath: input, outputDir: join(dir, "out"), spec: { fade_in_seconds: 0.5, fade_out_seconds: 2 } });
    const pcm = await readPcm16Wav(result.finished.path);
    expect(pcm.frames).toBe(288_000);
    const peak = (fromFrame: number, toFrame: number) => {
      let max = 0;
      for (let i = fromFrame * pcm.channels; i < toFrame * pcm.channels; i++) max = Math.max(max, Math.abs(pcm.samples[i]!));
      return max;
    };
    const body = peak(48_000, 96_000);
    expect(body).toBeGreaterThan(5_000);
    // First and last 5 ms: under 2 % of the body's peak (the fade gain there is at most 1 % / 0.25 %).
    expect(peak(0, 240)).toBeLessThan(body * 0.02);
    expect(peak(pcm.frames - 240, pcm.frames)).toBeLessThan(body * 0.02);
    expect(Math.abs(pcm.samples[0]!)).toBeLessThanOrEqual(1);
    expect(Math.abs(pcm.samples[pcm.samples.length - 1]!)).toBeLessThanOrEqual(200);
    // Halfway through the fade-out the level is clearly down but not gone.
    expect(peak(263_000, 265_000)).toBeLessThan(body * 0.7);
  });

  it("refuses fades longer than the track", async () => {
    const input = await synthTrack(join(dir, "short.wav"), { durationSeconds: 3 });
    await expect(
      finishAudio({ inputPath: input, outputDir: join(dir, "out"), spec: { fade_in_seconds: 2, fade_out_seconds: 2 } }),
    ).rejects.toThrow(/exceed the track's 3\.000 s/);
  });
});

describe("finishAudio safety", () => {
  it("never modifies the original and leaves no work files behind", async () => {
    const input = await synthTrack(join(dir, "original.wav"), { durationSeconds: 9, seed: 6, tags: "120 BPM" });
    const before = await sha256(input);
    await finishAudio({ inputPath: input, outputDir: dir, spec: { loop: true, loudness_lufs: -14, formats: ["flac"] }, tags: "120 BPM" });
    expect(await sha256(input)).toBe(before);
    expect((await readdir(dir)).sort()).toEqual(["finished.flac", "finished.wav", "original.wav"]);
  });

  it("refuses to write over the original", async () => {
    const input = await synthTrack(join(dir, "finished.wav"), { durationSeconds: 4 });
    const before = await sha256(input);
    await expect(finishAudio({ inputPath: input, outputDir: dir, spec: { formats: ["mp3"] } })).rejects.toThrow(/would overwrite the original/);
    expect(await sha256(input)).toBe(before);
  });

  it("leaves no file under a final name when cancelled mid-way, and the retry succeeds", async () => {
    const input = await synthTrack(join(dir, "original.wav"), { durationSeconds: 30, seed: 9, tags: "120 BPM" });
    const outputDir = join(dir, "out");
    const spec = { loudness_lufs: -14, formats: ["flac", "mp3", "ogg"] as ("flac" | "mp3" | "ogg")[] };
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("worker shutting down")), 400);
    await expect(finishAudio({ inputPath: input, outputDir, spec, signal: controller.signal })).rejects.toThrow("worker shutting down");
    expect(await readdir(outputDir)).toEqual([]);

    const result = await finishAudio({ inputPath: input, outputDir, spec });
    expect(Object.keys(result.formats).sort()).toEqual(["flac", "mp3", "ogg", "wav"]);
  });

  it("rejects an input that is not audio with a FinishError", async () => {
    const input = join(dir, "notes.txt");
    await writeFile(input, "not audio at all");
    await expect(finishAudio({ inputPath: input, outputDir: join(dir, "out"), spec: { formats: ["mp3"] } })).rejects.toBeInstanceOf(FinishError);
  });

  it("survives the worker being killed mid-way: original intact, nothing final, the retry sweeps and succeeds", async () => {
    const input = await synthTrack(join(dir, "original.wav"), { durationSeconds: 30, seed: 12, tags: "120 BPM" });
    const before = await sha256(input);
    const outputDir = join(dir, "out");
    await mkdir(outputDir);
    const script = [
      `import { finishAudio } from ${JSON.stringify(resolve(import.meta.dirname, "finish-audio.ts"))};`,
      `await finishAudio({ inputPath: ${JSON.stringify(input)}, outputDir: ${JSON.stringify(outputDir)}, spec: { loudness_lufs: -14, formats: ["flac", "ogg"] } });`,
    ].join("\n");
    // Its own process group, so the kill takes its ffmpeg children too, as a container stop would.
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { detached: true, stdio: "ignore" });
    const exited = new Promise((done) => child.once("exit", done));
    const deadline = Date.now() + 20_000;
    let workDir: string | undefined;
    while (workDir === undefined && Date.now() < deadline) {
      for (const entry of await readdir(outputDir)) {
        if (entry.startsWith(".finish-") && (await readdir(join(outputDir, entry))).includes("decoded.wav")) workDir = entry;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(-child.pid!, "SIGKILL");
    await exited;
    expect(workDir).toBeDefined();
    expect(await sha256(input)).toBe(before);
    expect((await readdir(outputDir)).filter((name) => name.startsWith("finished."))).toEqual([]);

    // The leftover work directory is swept by the next run once it is old enough to be abandoned.
    const old = new Date(Date.now() - 7 * 60 * 60 * 1000);
    await utimes(join(outputDir, workDir!), old, old);
    await finishAudio({ inputPath: input, outputDir, spec: { formats: ["flac"] } });
    expect((await readdir(outputDir)).sort()).toEqual(["finished.flac", "finished.wav"]);
  });
});
