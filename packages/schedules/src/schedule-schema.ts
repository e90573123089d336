import { randomInt } from "node:crypto";
import {
  expandIssue,
  isModelId,
  MAX_SEED,
  metadataSchema,
  MODEL_IDS,
  parseModelInput,
  tagsField,
  usdToMicroUsd,
  webhookUrlSchema,
  type Metadata,
  type ModelId,
} from "@acebatch/contracts";
import { z } from "zod";
import { CronSyntaxError, parseCron } from "./cron.ts";
import { canonicalTimezone } from "./zoned-time.ts";

export const SEED_STRATEGIES = ["random", "fixed", "increment"] as const;
export type SeedStrategy = (typeof SEED_STRATEGIES)[number];
export const OVERLAP_POLICIES = ["skip", "allow"] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
export const SCHEDULE_BUDGET_PERIODS = ["day", "month"] as const;
export type ScheduleBudgetPeriod = (typeof SCHEDULE_BUDGET_PERIODS)[number];

export const MAX_EVERY_SECONDS = 366 * 86_400;
export const MAX_ROTATION_ENTRIES = 1_000;
/** No single run of a schedule may be capped above this ($10,000). */
export const MAX_CAP_USD = 10_000;

/** A validated schedule definition as stored: defaults applied, money in micro-dollars. */
export interface ScheduleSpec {
  name: string;
  cron: string | null;
  every_seconds: number | null;
  timezone: string;
  model: ModelId;
  /** The provider input of every run (defaults applied). Without `tags` when a rotation supplies them. */
  input: Record<string, unknown>;
  seed_strategy: SeedStrategy;
  tags_rotation: string[] | null;
  overlap: OverlapPolicy;
  enabled: boolean;
  max_cost_per_run_micro_usd: number | null;
  max_cost_per_period_micro_usd: number | null;
  budget_period: ScheduleBudgetPeriod | null;
  webhook_url: string | null;
  metadata: Metadata;
}

const capField = (name: string) =>
  z
    .number({ error: `${name} must be a number of dollars` })
    .positive(`${name} must be more than 0`)
    .max(MAX_CAP_USD, `${name} must be at most ${MAX_CAP_USD}`)
    .nullable()
    .optional();

/** Every field a client may send, each optional; null clears an optional field (in PATCH). */
const fields = {
  name: z.string({ error: "name is required: a label for the schedule" }).trim().min(1, "name must not be empty").max(200, "name must be at most 200 characters"),
  cron: z.string({ error: "cron must be a string such as \"0 9 * * 1-5\"" }).max(200, "cron must be at most 200 characters").nullable().optional(),
  every_seconds: z
    .int({ error: "every_seconds must be a whole number of seconds" })
    .min(1, "every_seconds must be at least 1")
    .max(MAX_EVERY_SECONDS, `every_seconds must be at most ${MAX_EVERY_SECONDS} (a year)`)
    .nullable()
    .optional(),
  timezone: z.string({ error: "timezone must be an IANA name such as \"America/New_York\"" }).max(100).nullable().optional(),
  model: z.string({ error: `model is required: one of ${MODEL_IDS.join(", ")}` }),
  input: z.record(z.string(), z.unknown(), { error: "input is required: an object with the model's fields" }),
  seed_strategy: z.enum(SEED_STRATEGIES, { error: 'seed_strategy must be "random", "fixed" or "increment"' }).optional(),
  tags_rotation: z
    .array(tagsField, { error: "tags_rotation must be an array of tag strings" })
    .min(1, "tags_rotation needs at least one entry (or leave it out)")
    .max(MAX_ROTATION_ENTRIES, `tags_rotation may have at most ${MAX_ROTATION_ENTRIES} entries`)
    .nullable()
    .optional(),
  overlap: z.enum(OVERLAP_POLICIES, { error: 'overlap must be "skip" or "allow"' }).optional(),
  enabled: z.boolean({ error: "enabled must be true or false" }).optional(),
  max_cost_per_run_usd: capField("max_cost_per_run_usd"),
  max_cost_per_period_usd: capField("max_cost_per_period_usd"),
  budget_period: z.enum(SCHEDULE_BUDGET_PERIODS, { error: 'budget_period must be "day" or "month"' }).nullable().optional(),
  webhook_url: webhookUrlSchema.nullable().optional(),
  metadata: metadataSchema.nullable().optional(),
};

type Ctx = z.RefinementCtx;

function checkTiming(body: { cron?: string | null; every_seconds?: number | null }, ctx: Ctx): string | null | undefined {
  const hasCron = body.cron !== undefined && body.cron !== null;
  const hasEvery = body.every_seconds !== undefined && body.every_seconds !== null;
  if (hasCron === hasEvery) {
    ctx.addIssue({
      code: "custom",
      path: ["cron"],
      message: hasCron ? "give either cron or every_seconds, not both" : "cron or every_seconds is required (exactly one of them)",
    });
    return undefined;
  }
  if (!hasCron) return null;
  try {
    return parseCron(body.cron!).source;
  } catch (err) {
    if (!(err instanceof CronSyntaxError)) throw err;
    ctx.addIssue({ code: "custom", path: ["cron"], message: `invalid cron: ${err.message}` });
    return undefined;
  }
}

/**
 * Check a full definition (a POST body, or a stored definition with a PATCH applied) and normalise
 * it: defaults applied, timezone canonical, caps in micro-dollars. With `fixed` or `increment` and
 * no `input.seed`, a seed is drawn once here and kept, so the runs stay reproducible.
 */
export const scheduleDefinitionSchema = z.strictObject(fields).transform((body, ctx): ScheduleSpec => {
  const cron = checkTiming(body, ctx);
  const timezone = canonicalTimezone(body.timezone ?? "UTC");
  if (timezone === null) {
    ctx.addIssue({ code: "custom", path: ["timezone"], message: `unknown timezone ${JSON.stringify(body.timezone)}: use an IANA name such as "UTC" or "America/New_York"` });
  }
  if (!isModelId(body.model)) {
    ctx.addIssue({ code: "custom", path: ["model"], message: `unknown model "${body.model}": use one of ${MODEL_IDS.join(", ")}` });
    return z.NEVER;
  }
  const rotation = body.tags_rotation ?? null;
  // With a rotation each run takes its tags from it, so the template may leave `tags` out.
  const tagsFromRotation = rotation !== null && body.input.tags === undefined;
  const parsed = parseModelInput(body.model, tagsFromRotation ? { ...body.input, tags: rotation[0] } : body.input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues.flatMap(expandIssue)) {
      ctx.addIssue({ code: "custom", path: ["input", ...issue.path], message: issue.message });
    }
    return z.NEVER;
  }
  const input: Record<string, unknown> = { ...parsed.data };
  if (tagsFromRotation) delete input.tags;

  const strategy = body.seed_strategy ?? "random";
  if (strategy === "random" && input.seed !== -1) {
    ctx.addIssue({
      code: "custom",
      path: ["input", "seed"],
      message: `input.seed is ${input.seed} but seed_strategy is "random", which gives every run seed -1; use seed_strategy "fixed" or "increment", or leave input.seed out`,
    });
  }
  if (strategy !== "random" && input.seed === -1) input.seed = randomInt(0, MAX_SEED);

  const perPeriod = body.max_cost_per_period_usd ?? null;
  const period = body.budget_period ?? null;
  if ((perPeriod === null) !== (period === null)) {
    ctx.addIssue({
      code: "custom",
      path: [perPeriod === null ? "max_cost_per_period_usd" : "budget_period"],
      message: "max_cost_per_period_usd and budget_period go together: set both (e.g. 1.5 per \"day\") or neither",
    });
  }
  if (cron === undefined || timezone === null) return z.NEVER;
  return {
    name: body.name,
    cron,
    every_seconds: cron === null ? body.every_seconds! : null,
    timezone,
    model: body.model,
    input,
    seed_strategy: strategy,
    tags_rotation: rotation,
    overlap: body.overlap ?? "skip",
    enabled: body.enabled ?? true,
    max_cost_per_run_micro_usd: body.max_cost_per_run_usd == null ? null : usdToMicroUsd(body.max_cost_per_run_usd),
    max_cost_per_period_micro_usd: perPeriod === null ? null : usdToMicroUsd(perPeriod),
    budget_period: period,
    webhook_url: body.webhook_url ?? null,
    metadata: body.metadata ?? {},
  };
});

/** A PATCH body: any subset of the fields; null clears an optional one. */
export const schedulePatchSchema = z
  .strictObject({ ...fields, name: fields.name.optional(), model: fields.model.optional(), input: fields.input.optional() })
  .refine((p) => Object.keys(p).length > 0, "the PATCH body changes nothing: send at least one field");
export type SchedulePatch = z.output<typeof schedulePatchSchema>;

/** A stored definition in the shape a client sends, so a PATCH can be applied and re-validated. */
export function specToDefinition(spec: ScheduleSpec): Record<string, unknown> {
  return {
    name: spec.name,
    cron: spec.cron,
    every_seconds: spec.every_seconds,
    timezone: spec.timezone,
    model: spec.model,
    input: spec.input,
    seed_strategy: spec.seed_strategy,
    tags_rotation: spec.tags_rotation,
    overlap: spec.overlap,
    enabled: spec.enabled,
    max_cost_per_run_usd: spec.max_cost_per_run_micro_usd === null ? null : spec.max_cost_per_run_micro_usd / 1_000_000,
    max_cost_per_period_usd: spec.max_cost_per_period_micro_usd === null ? null : spec.max_cost_per_period_micro_usd / 1_000_000,
    budget_period: spec.budget_period,
    webhook_url: spec.webhook_url,
    metadata: spec.metadata,
  };
}

/**
 * Apply a PATCH to a stored definition: top-level fields replace, `input` and `metadata` merge
 * (a null member of `input` removes it), `input` is replaced when `model` changes, and setting
 * `cron` clears `every_seconds` and vice versa.
 */
export function applyPatch(spec: ScheduleSpec, patch: SchedulePatch): Record<string, unknown> {
  const def = specToDefinition(spec);
  // A new model has other input fields: its input replaces the old one instead of merging.
  const newModel = patch.model !== undefined && patch.model !== spec.model;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const merge = key === "metadata" || (key === "input" && !newModel);
    if (merge && value !== null && typeof value === "object") {
      const merged: Record<string, unknown> = { ...(def[key] as Record<string, unknown>) };
      for (const [k, v] of Object.entries(value)) {
        if (v === null && key === "input") delete merged[k];
        else merged[k] = v;
      }
      def[key] = merged;
    } else def[key] = value;
  }
  if (patch.cron != null && patch.every_seconds === undefined) def.every_seconds = null;
  if (patch.every_seconds != null && patch.cron === undefined) def.cron = null;
  return def;
}
