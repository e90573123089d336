import { z } from "zod";

/** One bad field: a dotted path (`input.duration`, `row 7 / duration`) and what is wrong with it. */
export const errorDetailSchema = z.object({
  path: z.string(),
  message: z.string(),
});

/** The one error body every endpoint answers with; `details` is always there, empty when no field is to blame. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(errorDetailSchema),
  }),
});

export type ErrorDetail = z.infer<typeof errorDetailSchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Turn zod issues into `details` rows with dotted paths, prefixed by where the value came from. */
export function issuesToDetails(issues: readonly z.core.$ZodIssue[], prefix?: string): ErrorDetail[] {
  return issues.flatMap(expandIssue).map((issue) => {
    const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)].join(".");
    return { path: path || "(body)", message: issue.message };
  });
}

/** Split an "unrecognized keys" issue into one issue per key, each at the key's own path. */
export function expandIssue(issue: z.core.$ZodIssue): { path: PropertyKey[]; message: string }[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({ path: [...issue.path, key], message: `unknown field "${key}"` }));
  }
  return [{ path: [...issue.path], message: issue.message }];
}

/**
 * Provider failure classes in the `runcomfy` CLI's exit-code terms: 65 bad input, 69 upstream
 * unavailable, 75 retryable (429/408/timeout), 77 not permitted, 1 the remote request failed.
 */
export const EXIT_CLASSES = [1, 65, 69, 75, 77] as const;
export type ExitClass = (typeof EXIT_CLASSES)[number];

/** Stable job error codes. */
export const JOB_ERROR_CODES = [
  "provider_rejected_input",
  "provider_unavailable",
  "provider_rate_limited",
  "provider_timeout",
  "provider_auth_failed",
  "provider_request_forbidden",
  "provider_insufficient_balance",
  "provider_request_failed",
  "provider_request_cancelled",
  "provider_request_expired",
  "provider_invalid_response",
  "ambiguous_submission",
  "source_audio_unavailable",
  "download_failed",
  "download_not_audio",
  "download_too_large",
  "invalid_payload",
  "cancelled",
  "internal",
] as const;
export type JobErrorCode = (typeof JOB_ERROR_CODES)[number];

export const jobErrorSchema = z.object({
  code: z.string(),
  exit_class: z.union([z.literal(1), z.literal(65), z.literal(69), z.literal(75), z.literal(77)]).nullable(),
  retryable: z.boolean(),
  message: z.string(),
});
export type JobError = z.infer<typeof jobErrorSchema>;
