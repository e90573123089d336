import type { ModelId } from "@acebatch/contracts";

/**
 * The JSON written beside each stored output (`metadataKey(jobId)`), enough to know where a file
 * came from and to verify it without Redis: what was asked, what the provider charged, what we got.
 */
export interface StoredAudioMetadata {
  job_id: string;
  model: ModelId;
  /** The provider input as submitted (defaults applied). */
  input: Record<string, unknown>;
  /** The seed the provider reports it used, when it reports one. */
  seed: number | null;
  request_id: string | null;
  /** The provider's charge for the request, integer micro-dollars. */
  cost_micro_usd: number | null;
  /** Detected from the bytes: "wav" | "mp3" | "flac" | "ogg". */
  format: string;
  content_type: string;
  /** Measured from the file, seconds. */
  duration_seconds: number;
  bytes: number;
  /** Hex SHA-256 of the stored bytes. */
  sha256: string;
  /** When the job was created, ISO-8601. */
  created_at: string;
  /** When the file was stored, ISO-8601. */
  stored_at: string;
}
