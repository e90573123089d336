import { z } from "zod";

import { idCursorSchema } from "./cursor.ts";
import { expandIssue, jobErrorSchema } from "./errors.ts";
import { FINISH_FORMATS, finishSpecSchema } from "./finish.ts";
import { inputObjectError, MODEL_INPUT_SCHEMAS } from "./inputs.ts";
import { AUDIO_INPAINT, AUDIO_OUTPAINT, isModelId, MODEL_IDS, TEXT_TO_AUDIO, TEXT_TO_AUDIO_15, type ModelId } from "./models.ts";

export const JOB_STATUSES = ["queued", "waiting_budget", "in_progress", "completed", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const jobStatusSchema = z.enum(JOB_STATUSES);

export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ["completed", "failed", "cancelled"];
export function isTerminalStatus(status: JobStatus): boolean {
  return TERMINAL_JOB_STATUSES.includes(status);
}

export const MAX_METADATA_KEYS = 50;

/** Free-form, flat user metadata that comes back with the job (and in batch results). */
export const metadataSchema = z
  .record(
    z.string().min(1).max(100),
    z.union([z.string().max(2_000), z.number(), z.boolean(), z.null()], {
      error: "metadata values must be strings, numbers, booleans or null",
    }),
  )
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, `metadata may have at most ${MAX_METADATA_KEYS} keys`);
export type Metadata = z.infer<typeof metadataSchema>;

export const webhookUrlSchema = z
  .string()
  .max(2_048)
  .refine((v) => /^https?:\/\//i.test(v) && URL.canParse(v), "webhook_url must be an http(s) URL");

/** The fields of a job submission besides `model` and `input`. */
const jobOptionFields = {
  webhook_url: webhookUrlSchema.optional(),
  metadata: metadataSchema.optional(),
  /** Audio finishing applied after the output is stored; never sent to the provider. */
  finish: finishSpecSchema.optional(),
};
/** What is still checked of a submission whose model is unknown (so has no input schema). */
const unknownModelSchema = z.object({ input: z.record(z.string(), z.unknown(), { error: inputObjectError }), ...jobOptionFields });

/** One model's submission: its `input` schema sits beside the other fields, so one parse names every bad field. */
const jobRequestFor = <M extends ModelId>(model: M) => z.object({ model: z.literal(model), input: MODEL_INPUT_SCHEMAS[model], ...jobOptionFields });

function modelMessage(body: unknown): string {
  const model = (body as Record<string, unknown>).model;
  if (model === undefined) return `model is required: one of ${MODEL_IDS.join(", ")}`;
  return `unknown model ${JSON.stringify(model)}: use one of ${MODEL_IDS.join(", ")}`;
}

/**
 * `POST /v1/jobs` body, one variant per model: `input` is validated against the chosen model's
 * schema with the provider's defaults applied (issue paths `input.<field>`), in the same pass as
 * the other fields. With an unknown model there is no input schema to apply: `model` is named, and
 * the other fields (and that `input` is an object) are still checked.
 */
export const createJobRequestSchema = z
  .discriminatedUnion(
    "model",
    [jobRequestFor(TEXT_TO_AUDIO), jobRequestFor(TEXT_TO_AUDIO_15), jobRequestFor(AUDIO_INPAINT), jobRequestFor(AUDIO_OUTPAINT)],
    {
      error: (issue) =>
        issue.code === "invalid_union" ? modelMessage(issue.input) : issue.code === "invalid_type" ? 'the body must be a JSON object: {"model", "input", ...}' : undefined,
    },
  )
  .superRefine(
    (body, ctx) => {
      const rest = unknownModelSchema.safeParse(body);
      for (const issue of rest.error?.issues.flatMap(expandIssue) ?? []) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
    },
    // Runs only when the union found no variant for `model` (known models check these fields themselves).
    { when: ({ value }) => typeof value === "object" && value !== null && !Array.isArray(value) && !isModelId((value as { model?: unknown }).model) },
  );
export type CreateJobRequest = z.output<typeof createJobRequestSchema>;

/** `POST /v1/jobs/{id}/finish` body: a new finish block replaces the stored one; without one the stored block runs again. */
export const finishJobRequestSchema = z
  .strictObject({ finish: finishSpecSchema.optional() }, { error: 'the body must be {"finish"?: {...}} or empty' })
  // No body at all (Fastify passes null/undefined) runs the stored block again.
  .nullish();
export type FinishJobRequest = z.output<typeof finishJobRequestSchema>;

/** `GET /v1/jobs/{id}/waveform`: min/max per pixel column over all channels, in -1…1. */
export const waveformSchema = z.object({
  variant: z.enum(["original", "finished"]),
  columns: z.int(),
  sample_rate: z.int(),
  duration_seconds: z.number(),
  peaks: z.array(z.tuple([z.number(), z.number()])),
});
export type Waveform = z.infer<typeof waveformSchema>;

/** Where a job's finishing (its `finish` block, after the output is stored) stands. */
export const FINISH_STATUSES = ["pending", "running", "done", "failed"] as const;
export type FinishStatus = (typeof FINISH_STATUSES)[number];

/** Why finishing failed; the job itself stays completed and its original untouched. */
export const finishErrorSchema = z.object({ code: z.string(), message: z.string(), retryable: z.boolean() });
export type FinishFailure = z.infer<typeof finishErrorSchema>;

/** One delivered file of a job's finished audio. */
export const finishedFileSchema = z.object({
  url: z.string(),
  content_type: z.string(),
  bytes: z.int(),
  sha256: z.string(),
  /** Measured by decoding the file back. */
  duration_seconds: z.number(),
});

/** The finished audio of a job whose `finish` block ran (the original stays in `output`). */
export const jobFinishedOutputSchema = z.object({
  /** The finished master (16-bit PCM WAV at the original's rate and channels). */
  url: z.string(),
  content_type: z.string(),
  duration_seconds: z.number(),
  sample_rate: z.int(),
  channels: z.int(),
  loop_bars: z.int().nullable(),
  loop_seconds: z.number().nullable(),
  bpm: z.number().nullable(),
  bpm_source: z.enum(["spec", "tags", "detected"]).nullable(),
  /** Integrated loudness of the finished file as measured (ebur128), not the target. */
  loudness_lufs: z.number().nullable(),
  true_peak_db: z.number().nullable(),
  /** Format → URL of that rendition. */
  formats: z.partialRecord(z.enum(FINISH_FORMATS), z.string()),
  files: z.partialRecord(z.enum(FINISH_FORMATS), finishedFileSchema),
  waveform_url: z.string().nullable(),
  finished_at: z.string(),
});
export type JobFinishedOutput = z.infer<typeof jobFinishedOutputSchema>;

export const jobOutputSchema = z.object({
  url: z.string(),
  content_type: z.string(),
  duration_seconds: z.number(),
  bytes: z.int(),
  sha256: z.string(),
  seed: z.int().nullable(),
  /** Waveform peaks of the original (null until computed). */
  waveform_url: z.string().nullable(),
  /** The finished renditions; null without a `finish` block or until finishing is done. */
  finished: jobFinishedOutputSchema.nullable(),
});
export type JobOutput = z.infer<typeof jobOutputSchema>;

/** A job as the API returns it. */
export const jobSchema = z.object({
  id: z.string(),
  model: z.enum(MODEL_IDS),
  input: z.record(z.string(), z.unknown()),
  status: jobStatusSchema,
  batch_id: z.string().nullable(),
  schedule_id: z.string().nullable(),
  attempts: z.int(),
  provider: z.object({
    name: z.literal("runcomfy"),
    request_id: z.string().nullable(),
    status: z.string().nullable(),
    queue_position: z.int().nullable(),
  }),
  estimated_cost_usd: z.number().nullable(),
  cost_usd: z.number().nullable(),
  output: jobOutputSchema.nullable(),
  /** The job's finish block as validated (defaults applied), or null. */
  finish: finishSpecSchema.nullable(),
  /** null: nothing to finish; pending until the output is stored and finishing starts. */
  finish_status: z.enum(FINISH_STATUSES).nullable(),
  finish_error: finishErrorSchema.nullable(),
  error: jobErrorSchema.nullable(),
  metadata: metadataSchema,
  webhook_url: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export type Job = z.infer<typeof jobSchema>;

export const listJobsQuerySchema = z.object({
  status: jobStatusSchema.optional(),
  batch_id: z.string().max(100).optional(),
  schedule_id: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: idCursorSchema("job"),
});
export type ListJobsQuery = z.infer<typeof listJobsQuerySchema>;

export const jobListSchema = z.object({
  data: z.array(jobSchema),
  next_cursor: z.string().nullable(),
});
