import { wavPeaks } from "@acebatch/audio";
import { downloadAudio } from "@acebatch/provider";
import { audioKey, metadataKey, type ObjectStorage, type StoredAudioMetadata } from "@acebatch/storage";
import type { JobRecord, StoredOutput } from "@acebatch/queue";
import { rm } from "node:fs/promises";
import type { Logger } from "pino";
import { finishKeys, toStoredPeaks } from "./finish-files.ts";

export interface StoreOutputOptions {
  storage: ObjectStorage;
  maxBytes: number;
  idleTimeoutMs: number;
  /** Columns of the waveform peaks stored beside a WAV output. */
  waveformColumns: number;
  logger: Logger;
  signal?: AbortSignal;
}

export interface StoredJobAudio {
  output: StoredOutput;
  /** Key of the original's waveform peaks when they were made here (WAV), else null (the finish run makes them). */
  waveformKey: string | null;
}

/**
 * Waveform peaks of a WAV output the download could not fold as it passed (not 16-bit PCM), read
 * in-process from the downloaded file while it is still on local disk: no ffmpeg and no finish run.
 * Null when the encoding is one only ffmpeg decodes or the read failed (logged): the finish run
 * then makes them.
 */
async function wavOutputPeaks(jobId: string, path: string, options: StoreOutputOptions) {
  try {
    const peaks = await wavPeaks(path, { columns: options.waveformColumns, signal: options.signal });
    return peaks ? { key: finishKeys.peaks(jobId), json: toStoredPeaks(peaks) } : null;
  } catch (err) {
    if (options.signal?.aborted) throw err;
    options.logger.warn({ err, jobId }, "waveform peaks of the WAV output could not be read here; the finish run will make them");
    return null;
  }
}

/**
 * Copy the provider's audio into our storage: streamed to a temp file (checked to be audio, size
 * capped, hashed, duration measured, a 16-bit WAV's peaks folded on the way), then moved into
 * place with its metadata sidecar (and, for WAV, its waveform peaks). Nothing half-written is ever
 * visible under the job's key.
 */
export async function storeOutput(
  rec: JobRecord,
  audioUrl: string,
  extra: { seed: number | null; costMicroUsd: number | null },
  options: StoreOutputOptions,
): Promise<StoredJobAudio> {
  const tempPath = await options.storage.tempFilePath();
  try {
    const audio = await downloadAudio({
      url: audioUrl,
      destPath: tempPath,
      maxBytes: options.maxBytes,
      idleTimeoutMs: options.idleTimeoutMs,
      waveformColumns: options.waveformColumns,
      signal: options.signal,
    });
    const key = audioKey(rec.id, audio.format);
    const metadata: StoredAudioMetadata = {
      job_id: rec.id,
      model: rec.model,
      input: rec.input,
      seed: extra.seed,
      request_id: rec.request_id,
      cost_micro_usd: extra.costMicroUsd,
      format: audio.format,
      content_type: audio.contentType,
      duration_seconds: audio.durationSeconds,
      bytes: audio.bytes,
      sha256: audio.sha256,
      created_at: rec.created_at,
      stored_at: new Date().toISOString(),
    };
    const peaks = audio.peaks
      ? { key: finishKeys.peaks(rec.id), json: toStoredPeaks(audio.peaks) }
      : audio.format === "wav"
        ? await wavOutputPeaks(rec.id, tempPath, options)
        : null;
    await options.storage.putFile(key, tempPath, { contentType: audio.contentType });
    await options.storage.putJson(metadataKey(rec.id), metadata);
    if (peaks) await options.storage.putJson(peaks.key, peaks.json);
    const output: StoredOutput = {
      storage_key: key,
      format: audio.format,
      content_type: audio.contentType,
      duration_seconds: audio.durationSeconds,
      bytes: audio.bytes,
      sha256: audio.sha256,
      seed: extra.seed,
    };
    return { output, waveformKey: peaks?.key ?? null };
  } finally {
    await rm(tempPath, { force: true });
  }
}
