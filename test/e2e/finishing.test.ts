import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodedDuration,
  download as downloadFrom,
  ebur128,
  parseWav,
  sha256,
  waitForFinish as waitForFinishOf,
} from "../support/finishing-audio.ts";
import { startStack, type Stack } from "../support/stack.ts";

/*
 * Audio finishing end to end: the simulator renders real 48 kHz WAVs, a worker process finishes
 * them with ffmpeg, and every figure is measured here from the served bytes, independently of
 * @acebatch/finishing (own WAV parsing, ffmpeg's ebur128 and decoder called directly).
 */

const T2A = "acestep-ai/ace-step/text-to-audio";

let stack: Stack;
let scratch: string;
beforeAll(async () => {
  // A realistic rate: the loop must be exactly 8.000 s at it.
  stack = await startStack({ label: "finishing", simulatorConfig: { sample_rate: 48_000 }, workerEnv: { FINISH_CONCURRENCY: "2" } });
  await stack.startWorker();
  scratch = await mkdtemp(join(tmpdir(), "acebatch-finishing-e2e-"));
});
afterAll(async () => {
  await stack?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const download = (path: string, headers: Record<string, string> = {}) => downloadFrom(stack, path, headers);
const waitForFinish = (id: string, timeoutMs?: number) => waitForFinishOf(stack, id, timeoutMs);

async function saveFile(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(scratch, name);
  await writeFile(path, bytes);
  return path;
}

describe("audio finishing", () => {
  it("makes a 4-bar loop at 120 BPM of exactly 8.000 s with no click at the seam, in every requested format", async () => {
    const formats = ["flac", "mp3", "ogg"];
    const submit = await stack.api("POST", "/v1/jobs", {
      model: T2A,
      input: { tags: "chiptune, 120 BPM", duration: 12, seed: 7 },
      finish: { loop: { bars: 4 }, formats },
    });
    expect(submit.status).toBe(202);
    expect(submit.body.input).not.toHaveProperty("finish"); // the provider input never carries it
    expect(submit.body).toMatchObject({ finish: { loop: { bars: 4 }, formats }, finish_status: "pending" });
    await stack.waitForJob(submit.body.id);
    const job = await waitForFinish(submit.body.id);
    expect(job.status).toBe("completed");
    expect(job.output.finished).toMatchObject({ loop_bars: 4, loop_seconds: 8, bpm: 120, bpm_source: "tags", sample_rate: 48_000, content_type: "audio/wav" });
    expect(Object.keys(job.output.finished.formats).sort()).toEqual(["flac", "mp3", "ogg", "wav"]);

    const wav = await download(`/v1/jobs/${job.id}/audio?variant=finished&format=wav`);
    expect(wav.status).toBe(200);
    expect(wav.headers.get("content-type")).toBe("audio/wav");
    expect(sha256(wav.bytes)).toBe(job.output.finished.files.wav.sha256);
    const pcm = parseWav(wav.bytes);
    expect(pcm.sampleRate).toBe(48_000);
    expect(pcm.frames).toBe(8 * 48_000); // exactly 8.000 s
    expect(pcm.frames / pcm.sampleRate).toBe(8);

    // Played on repeat, sample N-1 is followed by sample 0: that jump must look like any other.
    let largestInside = 0;
    let seam = 0;
    for (const ch of pcm.samples) {
      for (let i = 1; i < ch.length; i++) largestInside = Math.max(largestInside, Math.abs(ch[i]! - ch[i - 1]!));
      seam = Math.max(seam, Math.abs(ch[0]! - ch[ch.length - 1]!));
    }
    console.log(`loop: ${pcm.frames} frames at ${pcm.sampleRate} Hz; seam jump ${seam}, largest jump inside ${largestInside} (16-bit steps)`);
    expect(seam).toBeLessThanOrEqual(largestInside);

    for (const format of formats) {
      const file = await download(`/v1/jobs/${job.id}/audio?variant=finished&format=${format}`);
      expect(file.status).toBe(200);
      expect(file.headers.get("content-type")).toBe({ flac: "audio/flac", mp3: "audio/mpeg", ogg: "audio/ogg" }[format]);
      expect(file.bytes.length).toBe(job.output.finished.files[format].bytes);
      const decoded = await decodedDuration(await saveFile(`${job.id}.${format}`, file.bytes));
      console.log(`loop ${format}: ${decoded.frames} frames at ${decoded.sampleRate} Hz = ${decoded.seconds.toFixed(6)} s`);
      expect(Math.abs(decoded.seconds - 8)).toBeLessThanOrEqual(1 / decoded.sampleRate + 1e-9);
    }

    // Ranges work for renditions exactly as for the original.
    const range = await download(`/v1/jobs/${job.id}/audio?variant=finished&format=mp3`, { range: "bytes=10-19" });
    expect(range.status).toBe(206);
    expect(range.headers.get("content-range")).toBe(`bytes 10-19/${job.output.finished.files.mp3.bytes}`);
    expect(range.bytes.length).toBe(10);

    // The original is still the untouched 12 s provider output.
    const original = await download(`/v1/jobs/${job.id}/audio`);
    expect(sha256(original.bytes)).toBe(job.output.sha256);
    expect(parseWav(original.bytes).frames).toBe(12 * 48_000);

    // Waveform peaks of the original and of the finished master.
    const peaks = await stack.api("GET", `/v1/jobs/${job.id}/waveform`);
    expect(peaks.status).toBe(200);
    expect(peaks.body).toMatchObject({ variant: "original", columns: 800, sample_rate: 48_000, duration_seconds: 12 });
    expect(peaks.body.peaks).toHaveLength(800);
    const finishedPeaks = await stack.api("GET", `/v1/jobs/${job.id}/waveform?variant=finished`);
    expect(finishedPeaks.body).toMatchObject({ variant: "finished", duration_seconds: 8 });
    expect(job.output.waveform_url).toBe(`${stack.baseUrl}/v1/jobs/${job.id}/waveform`);
  }, 120_000);

  it("normalises drafts of different levels to -14 LUFS (ebur128, ±0.5 LU) in each format", async () => {
    const drafts = [
      { tags: "ambient drone, 60 BPM", duration: 10, seed: 1 },
      { tags: "hard techno, 172 BPM", duration: 10, seed: 2 },
    ];
    const ids: string[] = [];
    for (const input of drafts) {
      const res = await stack.api("POST", "/v1/jobs", { model: T2A, input, finish: { loudness_lufs: -14, formats: ["mp3", "ogg"] } });
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    for (const id of ids) {
      const job = await waitForFinish(id);
      const original = await ebur128(await saveFile(`${id}-original.wav`, (await download(`/v1/jobs/${id}/audio`)).bytes));
      const finishedWav = await saveFile(`${id}-finished.wav`, (await download(`/v1/jobs/${id}/audio?variant=finished`)).bytes);
      const measured = await ebur128(finishedWav);
      const sourceSeconds = (await decodedDuration(finishedWav)).seconds;
      const perFormat: string[] = [];
      for (const format of ["mp3", "ogg"]) {
        const path = await saveFile(`${id}-finished.${format}`, (await download(`/v1/jobs/${id}/audio?variant=finished&format=${format}`)).bytes);
        const lufs = await ebur128(path);
        const decoded = await decodedDuration(path);
        perFormat.push(`${format} ${lufs.toFixed(2)} LUFS ${decoded.seconds.toFixed(6)} s`);
        expect(Math.abs(lufs - -14)).toBeLessThanOrEqual(0.5);
        expect(Math.abs(decoded.seconds - sourceSeconds)).toBeLessThanOrEqual(1 / decoded.sampleRate + 1e-9);
      }
      console.log(`draft ${id}: original ${original.toFixed(2)} LUFS → finished wav ${measured.toFixed(2)} LUFS (reported ${job.output.finished.loudness_lufs}); ${perFormat.join("; ")}`);
      expect(Math.abs(measured - -14)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(job.output.finished.loudness_lufs - measured)).toBeLessThanOrEqual(0.1);
    }
  }, 120_000);

  it("answers clear errors for renditions that do not exist and for bad finish blocks", async () => {
    const plain = await stack.api("POST", "/v1/jobs", { model: T2A, input: { tags: "plain", duration: 5 } });
    const done = await stack.waitForJob(plain.body.id);
    expect(done).toMatchObject({ finish: null, finish_status: null, output: { finished: null } });
    const finished = await stack.api("GET", `/v1/jobs/${done.id}/audio?variant=finished&format=mp3`);
    expect(finished.status).toBe(404);
    expect(finished.body.error.code).toBe("finished_not_available");
    const wrongFormat = await stack.api("GET", `/v1/jobs/${done.id}/audio?format=mp3`);
    expect(wrongFormat.status).toBe(404);
    expect(wrongFormat.body.error.code).toBe("format_not_available");
    // Every stored output gets its waveform, finish block or not. A WAV output's peaks are made
    // in-process as it is stored, so they are there at completion and no finish run is queued.
    const peaks = await stack.api("GET", `/v1/jobs/${done.id}/waveform`);
    expect(peaks.status).toBe(200);
    expect(peaks.body.peaks).toHaveLength(800);
    expect(peaks.body.duration_seconds).toBe(5);
    const finishQueue = new Queue("finish", { connection: { url: stack.env.REDIS_URL }, prefix: stack.env.ACEBATCH_PREFIX });
    try {
      expect(await finishQueue.getJob(`finish-${done.id}`)).toBeUndefined();
    } finally {
      await finishQueue.close();
    }

    const badFormat = await stack.api("POST", "/v1/jobs", { model: T2A, input: { tags: "x", duration: 5 }, finish: { formats: ["aiff"] } });
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.error.details.map((d: { path: string }) => d.path)).toEqual(["finish.formats.0"]);
    const fadingLoop = await stack.api("POST", "/v1/jobs", { model: T2A, input: { tags: "x", duration: 5 }, finish: { loop: true, fade_out_seconds: 2 } });
    expect(fadingLoop.status).toBe(400);
    expect(fadingLoop.body.error.details.map((d: { path: string }) => d.path)).toEqual(["finish.fade_out_seconds"]);
    const noSpec = await stack.api("POST", `/v1/jobs/${done.id}/finish`, {});
    expect(noSpec.status).toBe(400);
    expect(noSpec.body.error.details[0].path).toBe("finish");

    // Finishing alone, later, with a block given then.
    const later = await stack.api("POST", `/v1/jobs/${done.id}/finish`, { finish: { fade_out_seconds: 1, formats: ["flac"] } });
    expect(later.status).toBe(202);
    expect(later.body).toMatchObject({ status: "completed", finish: { fade_out_seconds: 1 } });
    // The answer is read after the run is queued: a fast finish worker may already have picked it up.
    expect(["pending", "running"]).toContain(later.body.finish_status);
    const refinished = await waitForFinish(done.id);
    expect(Object.keys(refinished.output.finished.formats).sort()).toEqual(["flac", "wav"]);
    expect(refinished.output.sha256).toBe(done.output.sha256);
  }, 90_000);
});
