import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { checkFfmpeg, resolveTools, runTool } from "./ffmpeg.ts";
import { finishAudio } from "./finish-audio.ts";
import { FinishError } from "./finish-error.ts";
import { measureLoudness } from "./loudness.ts";
import { waveformPeaks } from "./waveform.ts";

describe("checkFfmpeg", () => {
  it("finds Debian's ffmpeg with the filters and encoders finishing needs", async () => {
    const found = await checkFfmpeg();
    expect(found.ffmpeg).toMatch(/\/ffmpeg$/);
    expect(found.ffprobe).toMatch(/\/ffprobe$/);
    expect(found.version).toMatch(/^\d+\.\d+/);
  });

  it("says how to install ffmpeg when it is not on the PATH", async () => {
    const empty = await mkdtemp(join(tmpdir(), "acebatch-no-ffmpeg-"));
    try {
      const ffmpegPath = `${empty}:/nonexistent/bin`;
      // Started one at a time: a call started early would reject while the loop still awaits an
      // earlier one, with no handler yet (an unhandled rejection, depending on timing).
      for (const start of [
        () => checkFfmpeg({ ffmpegPath }),
        () => finishAudio({ inputPath: "/dev/null", outputDir: empty, spec: { formats: ["mp3"] }, ffmpegPath }),
        () => measureLoudness("/dev/null", { ffmpegPath }),
        () => waveformPeaks("/dev/null", { ffmpegPath }),
      ]) {
        const attempt = start();
        await expect(attempt).rejects.toThrow(FinishError);
        await expect(attempt).rejects.toMatchObject({ code: "ffmpeg_missing", retryable: false });
        await expect(attempt).rejects.toThrow(/ffmpeg and ffprobe not found on PATH .*apt-get install ffmpeg/);
      }
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe("runTool", () => {
  it("puts the tail of ffmpeg's stderr into the error", async () => {
    const { ffmpeg } = await resolveTools();
    const failure = runTool(ffmpeg, ["-hide_banner", "-i", "/nonexistent/input.wav", "-f", "null", "-"]);
    await expect(failure).rejects.toMatchObject({ code: "ffmpeg_failed", retryable: true });
    await expect(failure).rejects.toThrow(/exit code 1\): .*\/nonexistent\/input\.wav: No such file or directory/);
  });

  it("kills a run that outlives its timeout", async () => {
    const { ffmpeg } = await resolveTools();
    const started = Date.now();
    const endless = runTool(ffmpeg, ["-hide_banner", "-re", "-f", "lavfi", "-i", "anullsrc", "-f", "null", "-"], { timeoutMs: 300 });
    await expect(endless).rejects.toMatchObject({ code: "ffmpeg_timeout" });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("kills the process and rejects with the signal's reason when aborted", async () => {
    const { ffmpeg } = await resolveTools();
    const controller = new AbortController();
    const endless = runTool(ffmpeg, ["-hide_banner", "-re", "-f", "lavfi", "-i", "anullsrc", "-f", "null", "-"], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("shutting down")), 100);
    await expect(endless).rejects.toThrow("shutting down");
  });

  it("feeds stdin and streams stdout", async () => {
    const { ffmpeg } = await resolveTools();
    const pcm = new Float32Array(4_800).fill(0.25);
    let bytes = 0;
    await runTool(ffmpeg, ["-hide_banner", "-f", "f32le", "-ar", "48000", "-ac", "1", "-i", "pipe:0", "-f", "s16le", "pipe:1"], {
      stdin: new Uint8Array(pcm.buffer),
      onStdout: (chunk) => {
        bytes += chunk.length;
      },
    });
    expect(bytes).toBe(4_800 * 2);
  });
});
