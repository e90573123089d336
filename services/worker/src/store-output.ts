import { downloadAudio } from "@acebatch/provider";
import { audioKey, metadataKey, type ObjectStorage, type StoredAudioMetadata } from "@acebatch/storage";
import type { JobRecord, StoredOutput } from "@acebatch/queue";
import { rm } from "node:fs/promises";

export interface StoreOutputOptions {
  storage: ObjectStorage;
  maxBytes: number;
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Copy the provider's audio into our storage: streamed to a temp file (checked to be audio, size
 * capped, hashed, duration measured), then moved into place with its metadata sidecar. Nothing
 * half-written is ever visible under the job's key.
 */
export async function storeOutput(
  rec: JobRecord,
  audioUrl: string,
  extra: { seed: number | null; costMicroUsd: number | null },
  options: StoreOutputOptions,
): Promise<StoredOutput> {
  const tempPath = await options.storage.tempFilePath();
  try {
    const audio = await downloadAudio({
      url: audioUrl,
      destPath: tempPath,
      maxBytes: options.maxBytes,
      idleTimeoutMs: options.idleTimeoutMs,
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
    await options.storage.putFile(key, tempPath, { contentType: audio.contentType });
    await options.storage.putJson(metadataKey(rec.id), metadata);
    return {
      storage_key: key,
      format: audio.format,
      content_type: audio.contentType,
      duration_seconds: audio.durationSeconds,
      bytes: audio.bytes,
      sha256: audio.sha256,
      seed: extra.seed,
    };
  } finally {
    await rm(tempPath, { force: true });
  }
}
