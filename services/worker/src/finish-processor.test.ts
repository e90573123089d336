import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createWavStream } from "@acebatch/audio";
import { createLogger } from "@acebatch/config";
import { newId, type FinishSpecInput } from "@acebatch/contracts";
import { FinishError } from "@acebatch/finishing";
import { closeRedis, createJobStore, createRedis, enqueueFinish, type JobStore } from "@acebatch/queue";
import { audioKey, createLocalStorage, type LocalStorage } from "@acebatch/storage";
import { uniquePrefix, waitFor } from "@acebatch/testing";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, inject, it } from "vitest";
import { createFinishProcessor } from "./finish-processor.ts";
import { createFinishWorker } from "./finish-worker.ts";

const run = promisify(execFile);
const logger = createLogger({ name: "finish-test", level: "silent" });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Integrated loudness measured by ffmpeg's ebur128 filter, called directly (not through @acebatch/finishing). */
async function ebur128(path: string): Promise<number> {
  const { stderr } = await run("ffmpeg", ["-hide_banner", "-nostats", "-i", path, "-filter_complex", "ebur128", "-f", "null", "-"]);
  const summary = stderr.slice(stderr.lastIndexOf("Summary:"));
  return Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)![1]);
}

async function setup() {
  const prefix = uniquePrefix("finish");
  const redis = createRedis(inject("redisUrl"), "worker");
  const store = createJobStore({ redis, prefix });
  const dir = await mkdtemp(join(tmpdir(), "acebatch-finish-proc-"));
  await mkdir(join(dir, "data"));
  const storage = createLocalStorage({ root: join(dir, "data") });
  cleanups.push(async () => {
    await closeRedis(redis);
    await rm(dir, { recursive: true, force: true });
  });
  return { prefix, redis, store, storage, dir };
}

/** A completed job whose stored original is a synthesized groove at `gain` (a linear factor). */
async function completedJob(
  ctx: { store: JobStore; storage: LocalStorage; dir: string },
  options: { gain: number; finish: FinishSpecInput | null; tags?: string; seconds?: number },
) {
  const id = newId("job");
  const synth = join(ctx.dir, `${id}-synth.wav`);
  await pipeline(createWavStream({ durationSeconds: options.seconds ?? 6, sampleRate: 48_000, seed: 3, tags: options.tags ?? "90 BPM" }), createWriteStream(synth));
  const original = join(ctx.dir, `${id}.wav`);
  await run("ffmpeg", ["-hide_banner", "-nostdin", "-y", "-i", synth, "-af", `volume=${options.gain}`, "-c:a", "pcm_s16le", original]);
  const bytes = await readFile(original);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const key = audioKey(id, "wav");
  await ctx.storage.putFile(key, original, { contentType: "audio/wav" });
  await ctx.store.create({
    id,
    model: "acestep-ai/ace-step/text-to-audio",
    input: { tags: options.tags ?? "90 BPM", duration: options.seconds ?? 6 },
    created_at: new Date().toISOString(),
    status: "completed",
    finish: options.finish === null ? null : (options.finish as never),
  });
  const output = { storage_key: key, format: "wav", content_type: "audio/wav", duration_seconds: options.seconds ?? 6, bytes: bytes.length, sha256, seed: 3 };
  await ctx.store.update(id, { output });
  return { id, sha256, originalPath: join(ctx.storage.root, key) };
}

describe("finish processor", () => {
  it("normalises drafts of very different levels to -14 LUFS (ebur128 within ±0.5 LU) and never touches the original", async () => {
    const ctx = await setup();
    const process = createFinishProcessor({ ...ctx, toolchain: async () => null, logger });
    const quiet = await completedJob(ctx, { gain: 0.05, finish: { loudness_lufs: -14, formats: ["mp3"] } });
    const loud = await completedJob(ctx, { gain: 3, finish: { loudness_lufs: -14, formats: ["mp3"] } });
    const before = [await ebur128(quiet.originalPath), await ebur128(loud.originalPath)];
    expect(before[1]! - before[0]!).toBeGreaterThan(20); // really different drafts

    for (const job of [quiet, loud]) {
      expect(await process({ job_id: job.id, rev: 0 })).toBe("finished");
      const rec = (await ctx.store.get(job.id))!;
      expect(rec).toMatchObject({ status: "completed", finish_status: "done", finish_error: null });
      const finishedPath = join(ctx.storage.root, rec.finished!.formats.wav!.storage_key);
      const measured = await ebur128(finishedPath);
      console.log(`draft ${job === quiet ? "quiet" : "loud"}: original ${(job === quiet ? before[0] : before[1])!.toFixed(1)} LUFS → finished ${measured.toFixed(2)} LUFS`);
      expect(Math.abs(measured - -14)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(await ebur128(join(ctx.storage.root, rec.finished!.formats.mp3!.storage_key)) - -14)).toBeLessThanOrEqual(0.5);
      expect(rec.finished!.formats.wav!.sha256).toBe(createHash("sha256").update(await readFile(finishedPath)).digest("hex"));
      expect(createHash("sha256").update(await readFile(job.originalPath)).digest("hex")).toBe(job.sha256);
      expect(rec.waveform_key).toBe(`jobs/${job.id}/peaks.json`);
    }
  }, 120_000);

  it("stores only the waveform peaks of a job without a finish block, once", async () => {
    const ctx = await setup();
    const process = createFinishProcessor({ ...ctx, toolchain: async () => null, logger });
    const job = await completedJob(ctx, { gain: 0.5, finish: null });
    expect(await process({ job_id: job.id, rev: 0 })).toBe("peaks_only");
    const rec = (await ctx.store.get(job.id))!;
    expect(rec).toMatchObject({ finish_status: null, finished: null, waveform_key: `jobs/${job.id}/peaks.json` });
    const peaks = await ctx.storage.getJson<{ columns: number; sample_rate: number; duration_seconds: number; peaks: [number, number][] }>(rec.waveform_key!);
    expect(peaks).toMatchObject({ columns: 800, sample_rate: 48_000, duration_seconds: 6 });
    expect(peaks!.peaks).toHaveLength(800);
    expect(Math.max(...peaks!.peaks.map(([, max]) => max))).toBeGreaterThan(0.05);
    expect(await process({ job_id: job.id, rev: 0 })).toBe("nothing_to_do");
  }, 60_000);

  it("discards a run made for an older finish revision", async () => {
    const ctx = await setup();
    const process = createFinishProcessor({ ...ctx, toolchain: async () => null, logger });
    const job = await completedJob(ctx, { gain: 0.5, finish: { formats: ["ogg"] } });
    await ctx.redis.hincrby(ctx.store.keys.job(job.id), "finish_rev", 1);
    expect(await process({ job_id: job.id, rev: 0 })).toBe("superseded");
    expect((await ctx.store.get(job.id))!.finished).toBeNull();
    expect(await process({ job_id: job.id, rev: 1 })).toBe("finished");
    expect(Object.keys((await ctx.store.get(job.id))!.finished!.formats).sort()).toEqual(["ogg", "wav"]);
  }, 60_000);
});

describe("finish worker", () => {
  async function startWorker(ctx: Awaited<ReturnType<typeof setup>>, checkToolchain?: () => Promise<unknown>) {
    const own: Redis = createRedis(inject("redisUrl"), "worker");
    const worker = createFinishWorker({ redis: own, prefix: ctx.prefix, concurrency: 2, lockDurationMs: 5_000, store: ctx.store, storage: ctx.storage, logger, checkToolchain });
    await worker.start();
    cleanups.push(async () => {
      await worker.close(5_000);
      await closeRedis(own);
    });
    return worker;
  }

  it("marks finishing failed with ffmpeg_missing when ffmpeg is absent, keeping the job completed and its original", async () => {
    const ctx = await setup();
    const worker = await startWorker(ctx, async () => {
      throw new FinishError("ffmpeg_missing", "ffmpeg not found on PATH (/nowhere): install it with `apt-get install ffmpeg`");
    });
    const job = await completedJob(ctx, { gain: 0.5, finish: { loudness_lufs: -14 } });
    await worker.enqueue(job.id);
    const rec = await waitFor(async () => {
      const r = await ctx.store.get(job.id);
      return r?.finish_status === "failed" ? r : undefined;
    }, { timeoutMs: 10_000, message: "finishing was not marked failed" });
    expect(rec).toMatchObject({ status: "completed", finish_error: { code: "ffmpeg_missing", retryable: false }, finished: null });
    expect(rec.finish_error!.message).toMatch(/apt-get install ffmpeg/);
    expect(createHash("sha256").update(await readFile(job.originalPath)).digest("hex")).toBe(job.sha256);
  });

  it("records a non-retryable input problem as finish_error without touching the job status", async () => {
    const ctx = await setup();
    const worker = await startWorker(ctx);
    // 8 bars at 90 BPM need 21.3 s: a 6 s track cannot loop that long.
    const job = await completedJob(ctx, { gain: 0.5, finish: { loop: { bars: 8 } } });
    await enqueueFinish(worker.queue, job.id, 0);
    const rec = await waitFor(async () => {
      const r = await ctx.store.get(job.id);
      return r?.finish_status === "failed" ? r : undefined;
    }, { timeoutMs: 20_000, message: "finishing was not marked failed" });
    expect(rec).toMatchObject({ status: "completed", finish_error: { code: "unfinishable_input", retryable: false } });
    // Peaks of the original are stored anyway.
    expect(rec.waveform_key).not.toBeNull();
    expect((await stat(job.originalPath)).size).toBe(rec.output!.bytes);
  }, 30_000);
});
