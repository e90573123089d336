import { metadataSchema, webhookUrlSchema, type Metadata } from "@acebatch/contracts";
import { z } from "zod";
import { excerpt } from "./errors.ts";
import { isInputField, MAX_VARIATIONS } from "./fields.ts";

export const MAX_AXES = 10;
export const MAX_AXIS_VALUES = 1_000;

const axisValue = z.union([z.string().trim().min(1, "axis values must not be empty").max(500), z.number()], {
  error: "axis values must be strings or numbers",
});

/**
 * The tag-combination form of POST /v1/batches: every combination of the axes' values (first axis
 * varying slowest) becomes a row, × `variations` seed variations. Axis values are appended to
 * `input.tags` in axis order; an axis named after another input field (`duration`, `seed`,
 * `lyrics`, …) sets that field instead. Every axis value is also kept as row metadata.
 */
export const tagCombosRequestSchema = z.strictObject({
  model: z.string().optional(),
  input: z.record(z.string(), z.unknown()).default({}),
  axes: z
    .record(z.string().trim().min(1).max(100), z.array(axisValue).min(1, "each axis needs at least one value").max(MAX_AXIS_VALUES, `an axis may have at most ${MAX_AXIS_VALUES} values`))
    .refine((axes) => Object.keys(axes).length >= 1 && Object.keys(axes).length <= MAX_AXES, `axes must have 1 to ${MAX_AXES} entries`),
  variations: z.int().min(1).max(MAX_VARIATIONS, `variations must be at most ${MAX_VARIATIONS}`).default(1),
  metadata: metadataSchema.optional(),
  name: z.string().max(200).optional(),
  max_cost_usd: z.number().positive().optional(),
  /** Receives `batch.completed`; `?webhook_url=` takes precedence. */
  webhook_url: webhookUrlSchema.optional(),
});
export type TagCombosRequest = z.output<typeof tagCombosRequestSchema>;

/** How many rows the axes describe (before variations). */
export function countCombos(axes: TagCombosRequest["axes"]): number {
  return Object.values(axes).reduce((n, values) => n * values.length, 1);
}

/** One expanded combination: its raw provider input (not validated yet) and metadata. */
export interface ComboRow {
  row: number;
  input: Record<string, unknown>;
  metadata: Metadata;
}

/** Expand the axes lazily, in row order (an odometer over the axes, the last axis fastest). */
export function* expandAxes(request: Pick<TagCombosRequest, "input" | "axes" | "metadata">): Generator<ComboRow> {
  const names = Object.keys(request.axes);
  const lists = names.map((n) => request.axes[n]!);
  const total = countCombos(request.axes);
  const positions = names.map(() => 0);
  const templateTags = typeof request.input.tags === "string" && request.input.tags.trim() !== "" ? [request.input.tags.trim()] : [];
  for (let row = 1; row <= total; row++) {
    const input: Record<string, unknown> = { ...request.input };
    const metadata: Metadata = { ...request.metadata };
    const tags = [...templateTags];
    names.forEach((name, i) => {
      const value = lists[i]![positions[i]!]!;
      metadata[name] = value;
      if (name !== "tags" && isInputField(name)) input[name] = value;
      else tags.push(String(value));
    });
    if (tags.length > 0) input.tags = tags.join(", ");
    yield { row, input, metadata };
    for (let i = names.length - 1; i >= 0; i--) {
      positions[i]!++;
      if (positions[i]! < lists[i]!.length) break;
      positions[i] = 0;
    }
  }
}

/** Axis names must not repeat once matched case-insensitively (`Genre` and `genre`). */
export function duplicateAxis(axes: TagCombosRequest["axes"]): string | null {
  const seen = new Set<string>();
  for (const name of Object.keys(axes)) {
    const key = name.toLowerCase();
    if (seen.has(key)) return `the axis ${excerpt(name)} is given twice`;
    seen.add(key);
  }
  return null;
}
