/**
 * The provider input fields a batch row may carry, in the order results list them, with the kind
 * of value a CSV cell must hold. `fields.test.ts` checks this against the contracts' schemas, so a
 * new provider field cannot be forgotten here.
 */
export const INPUT_FIELD_KINDS = {
  tags: "text",
  lyrics: "text",
  duration: "integer",
  seed: "integer",
  audio: "text",
  start_time: "number",
  start_time_relative_to: "text",
  end_time: "number",
  end_time_relative_to: "text",
  extend_before_duration: "number",
  extend_after_duration: "number",
} as const;

export type InputField = keyof typeof INPUT_FIELD_KINDS;
export type CellKind = (typeof INPUT_FIELD_KINDS)[InputField] | "variations";

export const INPUT_FIELDS = Object.keys(INPUT_FIELD_KINDS) as InputField[];

/** Columns that steer a row rather than being provider input or metadata. */
export const CONTROL_COLUMNS = ["model", "variations"] as const;
export type ControlColumn = (typeof CONTROL_COLUMNS)[number];

/** Most seed variations one row may ask for. */
export const MAX_VARIATIONS = 100;

export function isInputField(name: string): name is InputField {
  return Object.hasOwn(INPUT_FIELD_KINDS, name);
}

/** Input fields in their canonical order (for result columns). */
export function orderInputFields(names: Iterable<string>): InputField[] {
  const set = new Set(names);
  return INPUT_FIELDS.filter((f) => set.has(f));
}
