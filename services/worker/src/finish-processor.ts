import { join } from "node:path";
import { rm } from "node:fs/promises";
import type { FinishFailure, FinishFormat } from "@acebatch/contracts";
import { finishAudio, FinishError, waveformPeaks, type FinishResult, type Rendition } from "@acebatch/finishing";
import type { FinishPayload, JobRecord, JobStore, StoredFinished, StoredRendition } from "@acebatch/queue";
import type { ObjectStorage } from "@acebatch/storage";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { copyOriginal, createWorkDir, finishKeys, FinishRunError, sha256File, toStoredPeaks, withLock } from "./finish-files.ts";

export interface FinishDeps {
  store: JobStore;
  storage: ObjectStorage;
  /** For the per-job commit lock. */
  redis: Redis;
  /** null when ffmpeg passed the start-up check; otherwise that check's FinishError("ffmpeg_missing"). */
  toolchain: () => Promise<FinishError | null>;
  logger: Logger;
  /** Pixel columns of stored waveforms; default 800. */
  waveformColumns?: number;
  /** How long a commit may hold the per-job lock (ms); default 60 s. */
  commitLockMs?: number;
  now?: () => Date;
}

/**
 * `peaks_only`: the job has no finish block, only the original's waveform was stored;
 * `superseded`: a newer finish revision was requested, this run's result was discarded;
 * `no_toolchain`: peaks only were due and ffmpeg is missing (logged once at start-up).
 */
export type FinishOutcome = "finished" | "peaks_only" | "nothing_to_do" | "superseded" | "not_completed" | "missing" | "no_toolchain";

/** A finish run's failure as the record keeps it. */
export function toFinishFailure(err: unknown): FinishFailure {
  if (err instanceof FinishError || err instanceof FinishRunError) return { code: err.code, message: err.message, retryable: err.retryable };
  const message = err instanceof Error ? err.message : String(err);
  return { code: "finish_failed", message, retryable: true };
}

/**
 * One finish run of one completed job: copy the stored original to a work directory (never
 * touching it), store its waveform peaks once, then, when the record has a finish block, run the
 * ffmpeg toolchain and commit the finished files and the record together under a per-job lock.
 * The job's status is never changed; a run for an outdated `finish_rev` commits nothing.
 */
export function createFinishProcessor(deps: FinishDeps) {
  const now = deps.now ?? (() => new Date());
  const columns = deps.waveformColumns ?? 800;
  const commitLockMs = deps.commitLockMs ?? 60_000;

  async function storeOriginalPeaks(rec: JobRecord, originalPath: string, signal?: AbortSignal): Promise<void> {
    const peaks = await waveformPeaks(originalPath, { columns, signal });
    const key = finishKeys.peaks(rec.id);
    await deps.storage.putJson(key, toStoredPeaks(peaks));
    await deps.store.transition(rec.id, { from: ["completed"], set: { waveform_key: key } });
  }

  /** Store the finished files and point the record at them, unless a newer revision was asked for. */
  async function commit(rec: JobRecord, rev: number, result: FinishResult, finishedPeaks: ReturnType<typeof toStoredPeaks>, signal?: AbortSignal): Promise<boolean> {
    return withLock(
      deps.redis,
      `${deps.store.keys.job(rec.id)}:finish-commit`,
      commitLockMs,
      async () => {
        const current = await deps.store.get(rec.id);
        if (!current || current.finish_rev !== rev || current.status !== "completed") return false;
        const formats: Partial<Record<FinishFormat, StoredRendition>> = {};
        for (const [format, rendition] of Object.entries(result.formats) as [FinishFormat, Rendition][]) {
          const sha256 = await sha256File(rendition.path);
          const key = finishKeys.finished(rec.id, format);
          // Each file is replaced atomically (readers see the old or the new one, never a part).
          const { bytes } = await deps.storage.putFile(key, rendition.path, { contentType: rendition.contentType });
          formats[format] = { storage_key: key, content_type: rendition.contentType, bytes, sha256, duration_seconds: rendition.durationSeconds };
        }
        const waveformKey = finishKeys.finishedPeaks(rec.id);
        await deps.storage.putJson(waveformKey, finishedPeaks);
        const finished: StoredFinished = {
          duration_seconds: result.finished.durationSeconds,
          sample_rate: result.finished.sampleRate,
          channels: result.finished.channels,
          loop_bars: result.loop?.bars ?? null,
          loop_seconds: result.loop?.seconds ?? null,
          bpm: result.loop?.bpm ?? null,
          bpm_source: result.loop?.bpmSource ?? null,
          loudness_lufs: result.loudnessLufs ?? null,
          true_peak_db: result.truePeakDb ?? null,
          loudness_mode: result.loudnessMode ?? null,
          formats,
          waveform_key: waveformKey,
          rev,
          finished_at: now().toISOString(),
        };
        const outcome = await deps.store.transition(rec.id, { from: ["completed"], set: { finished, finish_status: "done", finish_error: null } });
        // Formats an earlier revision delivered and this one does not are no longer listed: drop them.
        for (const format of Object.keys(current.finished?.formats ?? {})) {
          if (!(format in formats)) await deps.storage.delete(finishKeys.finished(rec.id, format)).catch(() => undefined);
        }
        return outcome.ok;
      },
      signal,
    );
  }

  return async function processFinish(payload: FinishPayload, ctx: { signal?: AbortSignal; logger?: Logger } = {}): Promise<FinishOutcome> {
    const log = (ctx.logger ?? deps.logger).child({ jobId: payload.job_id, rev: payload.rev });
    const { signal } = ctx;
    const rec = await deps.store.get(payload.job_id);
    if (!rec) return "missing";
    if (rec.status !== "completed" || !rec.output) {
      log.warn({ status: rec.status }, "finish run for a job without stored output; nothing to do");
      return "not_completed";
    }
    if (rec.finish_rev !== payload.rev) return "superseded";
    const wantFinish = rec.finish !== null;
    const wantPeaks = rec.waveform_key === null;
    if (!wantFinish && !wantPeaks) return "nothing_to_do";
    const missing = await deps.toolchain();
    if (missing && !wantFinish) return "no_toolchain";
    if (missing) throw missing;
    if (wantFinish) await deps.store.transition(rec.id, { from: ["completed"], set: { finish_status: "running", finish_error: null } });

    const work = await createWorkDir(deps.storage, rec.id);
    try {
      const originalPath = join(work, `original.${rec.output.format}`);
      await copyOriginal(deps.storage, rec.output, originalPath, signal);
      if (wantPeaks) {
        try {
          await storeOriginalPeaks(rec, originalPath, signal);
        } catch (err) {
          // The peaks are for the dashboard: a failure there does not hold back the finishing asked for.
          if (!wantFinish || signal?.aborted) throw err;
          log.warn({ err }, "waveform peaks of the original failed; finishing anyway");
        }
      }
      if (!wantFinish) return "peaks_only";

      const started = Date.now();
      const result = await finishAudio({
        inputPath: originalPath,
        outputDir: join(work, "finished"),
        spec: rec.finish!,
        tags: typeof rec.input.tags === "string" ? rec.input.tags : undefined,
        signal,
      });
      const finishedPeaks = toStoredPeaks(await waveformPeaks(result.finished.path, { columns, signal }));
      if (!(await commit(rec, payload.rev, result, finishedPeaks, signal))) {
        log.info("a newer finish revision was requested meanwhile; this run's files are discarded");
        return "superseded";
      }
      log.info(
        {
          ms: Date.now() - started,
          seconds: result.finished.durationSeconds,
          loopBars: result.loop?.bars,
          loudnessLufs: result.loudnessLufs,
          formats: Object.keys(result.formats),
        },
        "job audio finished",
      );
      return "finished";
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  };
}

export type FinishProcessor = ReturnType<typeof createFinishProcessor>;
