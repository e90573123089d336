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

const definitionObject = z.strictObject(fields);
type Definition = z.output<typeof definitionObject>;
/** Report one problem with a field of the definition. */
type Problem = (path: PropertyKey[], message: string) => void;

function checkTiming(body: Pick<Definition, "cron" | "every_seconds">, problem: Problem): string | null | undefined {
  const hasCron = body.cron !== undefined && body.cron !== null;
  const hasEvery = body.every_seconds !== undefined && body.every_seconds !== null;
  if (hasCron === hasEvery) {
    problem(["cron"], hasCron ? "give either cron or every_seconds, not both" : "cron or every_seconds is required (exactly one of them)");
    return undefined;
  }
  if (!hasCron) return null;
  try {
    return parseCron(body.cron!).source;
  } catch (err) {
    if (!(err instanceof CronSyntaxError)) throw err;
    problem(["cron"], `invalid cron: ${err.message}`);
    return undefined;
  }
}

/**
 * The checks that combine fields (timing, timezone, the model's input, seeds, caps) and the stored
 * spec they give. Fields in `invalid` already failed their own schema: the checks that need them
 * are skipped (their problem is named once, by that schema), the others still run, so one answer
 * names every bad field. Gives undefined when anything is wrong.
 */
function toSpec(body: Definition, ctx: z.RefinementCtx, invalid: ReadonlySet<unknown>): ScheduleSpec | undefined {
  let problems = 0;
  const problem: Problem = (path, message) => {
    problems++;
    ctx.addIssue({ code: "custom", path, message });
  };
  const valid = (...keys: (keyof Definition)[]) => keys.every((key) => !invalid.has(key));

  const cron = valid("cron", "every_seconds") ? checkTiming(body, problem) : undefined;
  const timezone = valid("timezone") ? canonicalTimezone(body.timezone ?? "UTC") : null;
  if (valid("timezone") && timezone === null) {
    problem(["timezone"], `unknown timezone ${JSON.stringify(body.timezone)}: use an IANA name such as "UTC" or "America/New_York"`);
  }
  const rotation = valid("tags_rotation") ? (body.tags_rotation ?? null) : null;
  const strategy = valid("seed_strategy") ? (body.seed_strategy ?? "random") : undefined;

  let input: Record<string, unknown> | undefined;
  if (valid("model") && !isModelId(body.model)) {
    problem(["model"], `unknown model "${body.model}": use one of ${MODEL_IDS.join(", ")}`);
  } else if (valid("model", "input")) {
    const model = body.model as ModelId;
    // With a rotation each run takes its tags from it, so the template may leave `tags` out (a bad
    // rotation is named on its own; the rest of the input is still checked).
    const tagsFromRotation = body.tags_rotation != null && body.input.tags === undefined;
    const parsed = parseModelInput(model, tagsFromRotation ? { ...body.input, tags: rotation?.[0] ?? "rotation" } : body.input);
    if (!parsed.success) {
      for (const issue of parsed.error.issues.flatMap(expandIssue)) problem(["input", ...issue.path], issue.message);
    } else {
      input = { ...parsed.data };
      if (tagsFromRotation) delete input.tags;
      if (strategy === "random" && input.seed !== -1) {
        problem(
          ["input", "seed"],
          `input.seed is ${input.seed} but seed_strategy is "random", which gives every run seed -1; use seed_strategy "fixed" or "increment", or leave input.seed out`,
        );
      }
      if (strategy !== undefined && strategy !== "random" && input.seed === -1) input.seed = randomInt(0, MAX_SEED);
    }
  }

  const perPeriod = body.max_cost_per_period_usd ?? null;
  const period = body.budget_period ?? null;
  if (valid("max_cost_per_period_usd", "budget_period") && (perPeriod === null) !== (period === null)) {
    problem(
      [perPeriod === null ? "max_cost_per_period_usd" : "budget_period"],
      "max_cost_per_period_usd and budget_period go together: set both (e.g. 1.5 per \"day\") or neither",
    );
  }
  if (problems > 0 || invalid.size > 0 || cron === undefined || timezone === null || input === undefined || strategy === undefined) return undefined;
  return {
    name: body.name,
    cron,
    every_seconds: cron === null ? body.every_seconds! : null,
    timezone,
    model: body.model as ModelId,
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
}

/**
 * Check a full definition (a POST body, or a stored definition with a PATCH applied) and normalise
 * it: defaults applied, timezone canonical, caps in micro-dollars. With `fixed` or `increment` and
 * no `input.seed`, a seed is drawn once here and kept, so the runs stay reproducible.
 */
export const scheduleDefinitionSchema = definitionObject
  // A field failed its own schema, so the transform below will not run: the checks that combine
  // fields still run here, on the fields that are valid, so one 400 names every bad field.
  .superRefine((body, ctx) => void toSpec(body, ctx, new Set(ctx.issues.map((issue) => issue.path?.[0]))), {
    when: ({ value, issues }) => issues.length > 0 && typeof value === "object" && value !== null && !Array.isArray(value),
  })
  .transform((body, ctx): ScheduleSpec => toSpec(body, ctx, new Set()) ?? z.NEVER);

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
