import { z } from "zod";

const probability = z.number({ error: "must be a probability between 0 and 1" }).min(0, "must be at least 0").max(1, "must be at most 1");

/** Fault injection, as probabilities applied to each /v1 call (`rate_failed`: to each submit). */
export const failConfigSchema = z.strictObject({
  /** Answer 429 (with Retry-After when `retry_after_seconds` is set). */
  rate_429: probability,
  /** Answer 500, 502 or 503. */
  rate_5xx: probability,
  /** Process the call but hold the answer for `timeout_hold_ms` (or until the client hangs up), then 504. */
  rate_timeout: probability,
  /** The submitted request renders and then ends `failed`. */
  rate_failed: probability,
});

/** The simulator's run-time behaviour, changed through `PUT /__sim/config`. */
export const simConfigSchema = z.strictObject({
  /** API calls per second (sliding one-second window) before answering 429; null or 0 = unlimited. */
  rate_limit_rps: z.number().min(0).nullable(),
  /** Renders in progress at once; further requests wait `in_queue`. */
  max_concurrent: z.int().min(1).max(1_000_000),
  /** Audio seconds rendered per wall second; 0 = instant. */
  speed: z.number().min(0),
  /** Hz of the output WAV files. */
  sample_rate: z.int().min(8_000).max(192_000),
  /** Sent as Retry-After (whole seconds, rounded up) on every 429; null = no header. */
  retry_after_seconds: z.number().min(0).max(86_400).nullable(),
  fail: failConfigSchema,
  /** How long a simulated timeout holds the answer, in ms. */
  timeout_hold_ms: z.int().min(0).max(600_000),
  /** Check `Authorization: Bearer` on /v1 calls. */
  require_token: z.boolean(),
  /** Answer 401 to every /v1 call, as if the token had been revoked. */
  reject_tokens: z.boolean(),
  /** Wait this long (ms) before answering a file download. */
  download_delay_ms: z.int().min(0).max(600_000),
  /** Seed of the fault-injection RNG; null = Math.random. */
  fail_seed: z.int().nullable(),
  /** Finished requests answer 404001 (expired) this many seconds after finishing; null = never. */
  result_ttl_seconds: z.number().positive().nullable(),
  /** A request whose output would be longer (outpaint of a long source) ends `failed`; null = no cap. */
  max_output_seconds: z.number().positive().nullable(),
  /** Reject a submit (HTTP 400) whose tags contain this text, as the provider rejects input it dislikes; null = never. */
  reject_tags_containing: z.string().min(1).max(200).nullable(),
  /** Serve an HTML page instead of audio from /files (a CDN error page behind a 200). */
  corrupt_downloads: z.boolean(),
  /** Time limit for fetching an inpaint/outpaint source, in ms. */
  source_fetch_timeout_ms: z.int().min(1).max(600_000),
  /**
   * Keep served WAVs as temp files, up to this many bytes in all, so identical outputs (same
   * length, rate, seed and tags) are synthesized once; 0 = synthesize every download as it streams.
   */
  output_cache_bytes: z.int().min(0).max(64 * 1024 ** 3),
});

export type SimConfig = z.infer<typeof simConfigSchema>;

/** A partial update: any subset of keys, `fail` merged key by key; unknown keys are rejected. */
export const simConfigPatchSchema = simConfigSchema.extend({ fail: failConfigSchema.partial() }).partial();
export type SimConfigPatch = z.input<typeof simConfigPatchSchema>;

export const DEFAULT_SIM_CONFIG: SimConfig = Object.freeze({
  rate_limit_rps: null,
  max_concurrent: 1000,
  speed: 0,
  sample_rate: 48_000,
  retry_after_seconds: null,
  fail: Object.freeze({ rate_429: 0, rate_5xx: 0, rate_timeout: 0, rate_failed: 0 }),
  timeout_hold_ms: 65_000,
  require_token: true,
  reject_tokens: false,
  download_delay_ms: 0,
  fail_seed: null,
  result_ttl_seconds: null,
  max_output_seconds: 240,
  reject_tags_containing: null,
  corrupt_downloads: false,
  source_fetch_timeout_ms: 30_000,
  output_cache_bytes: 0,
}) as SimConfig;

/** A config patch that does not validate; `issues` name each bad key. */
export class SimConfigError extends Error {
  readonly issues: { path: string; message: string }[];
  constructor(issues: { path: string; message: string }[]) {
    super(`invalid simulator config: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
    this.name = "SimConfigError";
    this.issues = issues;
  }
}

/** Validate `patch` and apply it on top of `current`. Throws SimConfigError. */
export function mergeSimConfig(current: SimConfig, patch: unknown): SimConfig {
  const parsed = simConfigPatchSchema.safeParse(patch ?? {});
  if (!parsed.success) {
    throw new SimConfigError(
      parsed.error.issues.flatMap((issue) =>
        issue.code === "unrecognized_keys"
          ? issue.keys.map((key) => ({ path: [...issue.path, key].join("."), message: `unknown config key "${key}"` }))
          : [{ path: issue.path.join(".") || "(body)", message: issue.message }],
      ),
    );
  }
  const { fail, ...rest } = parsed.data;
  const next: SimConfig = { ...current, ...rest, fail: { ...current.fail, ...fail } };
  const { rate_429, rate_5xx, rate_timeout } = next.fail;
  if (rate_429 + rate_5xx + rate_timeout > 1) {
    throw new SimConfigError([{ path: "fail", message: "rate_429 + rate_5xx + rate_timeout must not exceed 1" }]);
  }
  return next;
}
