import { AUDIO_INPAINT, AUDIO_OUTPAINT, isModelId, MODEL_IDS, TEXT_TO_AUDIO, TEXT_TO_AUDIO_15, type ModelId } from "@acebatch/contracts";
import { CliError, EXIT } from "./exit-codes.ts";

/** Short names accepted wherever a model id is; output always shows the full id. */
export const MODEL_ALIASES: Readonly<Record<string, ModelId>> = {
  t2a: TEXT_TO_AUDIO,
  "t2a-1.5": TEXT_TO_AUDIO_15,
  inpaint: AUDIO_INPAINT,
  outpaint: AUDIO_OUTPAINT,
};

/** The full model id for a full id or an alias (case-insensitive); undefined when unknown. */
export function resolveModelAlias(value: string): ModelId | undefined {
  const trimmed = value.trim().toLowerCase();
  if (isModelId(trimmed)) return trimmed;
  return MODEL_ALIASES[trimmed];
}

/**
 * Like resolveModelAlias, but an unknown model is a rejected input (65), as the provider's own
 * "unknown model id" is for `runcomfy run`.
 */
export function requireModel(value: string): ModelId {
  const model = resolveModelAlias(value);
  if (model) return model;
  throw new CliError(EXIT.dataErr, `unknown model "${value}"`, {
    code: "unknown_model",
    details: [{ path: "model", message: `use one of ${MODEL_IDS.join(", ")} or an alias: ${describeAliases()}` }],
  });
}

export function describeAliases(): string {
  return Object.entries(MODEL_ALIASES)
    .map(([alias, id]) => `${alias} = ${id}`)
    .join(", ");
}
