import { createHash } from "node:crypto";
import type { ModelId } from "@acebatch/contracts";

/** Where a job sits in a batch: its data row and which of the row's variations it is (1-based). */
export interface RowRef {
  row: number;
  variation: number;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * Exact duplicates within one upload: the same model and the same validated input with a fixed
 * seed would render the same audio, so only the first is paid for. Random-seed rows (-1) are never
 * duplicates. Keeps a 20-byte digest per fixed-seed job, not the inputs.
 */
export function createDuplicateDetector() {
  const seen = new Map<string, RowRef>();
  return {
    /** The first job with this model and input, or null (and remember this one). */
    check(model: ModelId, input: Record<string, unknown>, ref: RowRef): RowRef | null {
      if (typeof input.seed !== "number" || input.seed === -1) return null;
      const key = createHash("sha1").update(model).update("\n").update(canonicalJson(input)).digest("base64");
      const first = seen.get(key);
      if (first) return first;
      seen.set(key, ref);
      return null;
    },
  };
}
