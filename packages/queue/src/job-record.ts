import type { FinishFailure, FinishFormat, FinishSpec, FinishStatus, JobError, JobStatus, Metadata, ModelId } from "@acebatch/contracts";

/** Where a job's audio sits in our storage and what it is. */
export interface StoredOutput {
  storage_key: string;
  format: string;
  content_type: string;
  duration_seconds: number;
  bytes: number;
  sha256: string;
  seed: number | null;
}

/** One delivered file of a job's finished audio in our storage (`jobs/{id}/finished.{ext}`). */
export interface StoredRendition {
  storage_key: string;
  content_type: string;
  bytes: number;
  sha256: string;
  /** Measured by decoding the file back. */
  duration_seconds: number;
}

/** What the finish block made of a job's stored output; the original stays in `output`. */
export interface StoredFinished {
  duration_seconds: number;
  sample_rate: number;
  channels: number;
  loop_bars: number | null;
  loop_seconds: number | null;
  bpm: number | null;
  bpm_source: "spec" | "tags" | "detected" | null;
  /** Measured on the finished file (ebur128), not the target; null for silence. */
  loudness_lufs: number | null;
  true_peak_db: number | null;
  loudness_mode: "linear" | "dynamic" | null;
  /** "wav" (the finished master) always, plus the requested formats. */
  formats: Partial<Record<FinishFormat, StoredRendition>>;
  /** Waveform peaks of the finished master. */
  waveform_key: string | null;
  /** The `finish_rev` this was made for. */
  rev: number;
  finished_at: string;
}

/**
 * Whether the provider submission of a job happened: `none` (never sent), `claimed` (one worker
 * holds the exclusive right to submit; nothing sent yet), `submitting` (sent, no answer recorded
 * yet: if the claim expires in this state the outcome is unknown), `submitted` (a
 * request_id is recorded), `ambiguous` (a submit failed in a way that may still have created a paid
 * request).
 */
export type SubmitState = "none" | "claimed" | "submitting" | "submitted" | "ambiguous";

/** The durable record of one job, kept in a Redis hash (snake_case fields, JSON for objects). */
export interface JobRecord {
  id: string;
  model: ModelId;
  input: Record<string, unknown>;
  status: JobStatus;
  batch_id: string | null;
  schedule_id: string | null;
  attempts: number;
  request_id: string | null;
  provider_status: string | null;
  queue_position: number | null;
  submit_state: SubmitState;
  submits: number;
  /** While `submit_state` is `claimed` or `submitting`: until when (ms) that claim is exclusive. */
  submit_lease_until?: number | null;
  /** Ledger id of the money held for the current provider submit (`<job id>#<submit ordinal>`). */
  reservation_id: string | null;
  estimated_cost_micro_usd: number | null;
  cost_micro_usd: number | null;
  output: StoredOutput | null;
  error: JobError | null;
  metadata: Metadata;
  webhook_url: string | null;
  /** The stored API key (`key_...`) that submitted the job, so its per-key budget applies; null for the admin key. */
  key_id: string | null;
  cancel_requested: boolean;
  /** The finish block (never sent to the provider); null: no finishing, only waveform peaks. */
  finish: FinishSpec | null;
  /** The finished renditions, once a finish run succeeded. */
  finished: StoredFinished | null;
  finish_status: FinishStatus | null;
  finish_error: FinishFailure | null;
  /** Bumped by every re-run request; a finish run made for an older revision is discarded. */
  finish_rev: number;
  /** Waveform peaks of the original output (`jobs/{id}/peaks.json`), once computed. */
  waveform_key: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

const JSON_FIELDS = new Set(["input", "error", "metadata", "finish", "finished", "finish_error"]);
const INT_FIELDS = new Set(["attempts", "queue_position", "estimated_cost_micro_usd", "cost_micro_usd", "submits", "finish_rev", "submit_lease_until"]);
const BOOL_FIELDS = new Set(["cancel_requested"]);

/**
 * `output` is kept as one short hash field per property rather than one JSON value: Redis stores a
 * hash whose values are all ≤ 64 bytes (`hash-max-listpack-value`) as a compact listpack, about a
 * third of the memory of the hashtable a single long JSON value forces (1.9 KB → 0.7 KB per
 * completed job). `out_key` present means the job has an output.
 */
const OUTPUT_FIELDS = {
  storage_key: "out_key",
  format: "out_format",
  content_type: "out_type",
  duration_seconds: "out_seconds",
  bytes: "out_bytes",
  sha256: "out_sha256",
  seed: "out_seed",
} as const satisfies Record<keyof StoredOutput, string>;

function encodeOutput(output: StoredOutput | null, out: string[]): void {
  for (const [property, field] of Object.entries(OUTPUT_FIELDS)) {
    const value = output ? output[property as keyof StoredOutput] : null;
    out.push(field, value === null ? "" : String(value));
  }
}

function decodeOutput(hash: Record<string, string>): StoredOutput | null {
  if (!hash.out_key) return null;
  const seed = hash.out_seed ?? "";
  return {
    storage_key: hash.out_key,
    format: hash.out_format ?? "",
    content_type: hash.out_type ?? "",
    duration_seconds: Number(hash.out_seconds),
    bytes: Number(hash.out_bytes),
    sha256: hash.out_sha256 ?? "",
    seed: seed === "" ? null : Number(seed),
  };
}

/** Serialise record fields for HSET; null becomes the empty string (or, with `skipEmpty`, is left out). */
export function encodeFields(fields: Partial<JobRecord>, skipEmpty = false): string[] {
  const out: string[] = [];
  for (const key in fields) {
    const value = fields[key as keyof JobRecord];
    if (value === undefined) continue;
    if (skipEmpty && (value === null || (key in DEFAULTS && DEFAULTS[key] === value))) continue;
    if (key === "output") {
      encodeOutput(value as StoredOutput | null, out);
      continue;
    }
    let encoded: string;
    if (value === null) encoded = "";
    else if (JSON_FIELDS.has(key)) encoded = JSON.stringify(value);
    else if (BOOL_FIELDS.has(key)) encoded = value ? "1" : "0";
    else encoded = String(value);
    out.push(key, encoded);
  }
  return out;
}

/**
 * Every field a new record starts with, and the value a field omitted in Redis has (empty
 * defaults are never written, which keeps a record small).
 */
export const RECORD_DEFAULTS: Readonly<Omit<JobRecord, "id" | "model" | "input" | "status" | "created_at" | "submit_lease_until">> = {
  batch_id: null,
  schedule_id: null,
  attempts: 0,
  request_id: null,
  provider_status: null,
  queue_position: null,
  submit_state: "none",
  submits: 0,
  reservation_id: null,
  estimated_cost_micro_usd: null,
  cost_micro_usd: null,
  output: null,
  error: null,
  metadata: {},
  webhook_url: null,
  key_id: null,
  cancel_requested: false,
  finish: null,
  finished: null,
  finish_status: null,
  finish_error: null,
  finish_rev: 0,
  waveform_key: null,
  started_at: null,
  finished_at: null,
};

const DEFAULTS: Readonly<Record<string, unknown>> = RECORD_DEFAULTS;

/**
 * Every field of a record (the type check fails here until a new JobRecord field is listed); the
 * `out_*` fields are read by decodeOutput. Anything else in the hash is other packages' bookkeeping
 * kept on the record to save keys, e.g. the webhook dispatcher's `wh_claim` / `wh_fanned`:
 * decodeRecord leaves it out, so it never reaches a JobRecord or the API's job JSON.
 */
const RECORD_FIELDS: ReadonlySet<string> = new Set(
  Object.keys({
    ...RECORD_DEFAULTS,
    id: "",
    model: "",
    input: {},
    status: "queued",
    created_at: "",
    submit_lease_until: null,
  } satisfies Record<keyof JobRecord, unknown>),
);

/** Rebuild a record from HGETALL output; null when the hash does not exist. */
export function decodeRecord(hash: Record<string, string>): JobRecord | null {
  if (!hash.id) return null;
  const rec: Record<string, unknown> = { ...RECORD_DEFAULTS, metadata: {}, output: decodeOutput(hash) };
  for (const [key, raw] of Object.entries(hash)) {
    if (!RECORD_FIELDS.has(key)) continue;
    if (raw === "") rec[key] = key in DEFAULTS ? DEFAULTS[key] : null;
    else if (JSON_FIELDS.has(key)) rec[key] = JSON.parse(raw);
    else if (INT_FIELDS.has(key)) rec[key] = Number(raw);
    else if (BOOL_FIELDS.has(key)) rec[key] = raw === "1";
    else rec[key] = raw;
  }
  return rec as unknown as JobRecord;
}

/** Only the fields that carry a value: a new record is written without its empty defaults. */
export function encodeNonEmptyFields(fields: Partial<JobRecord>): string[] {
  return encodeFields(fields, true);
}
