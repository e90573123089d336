import { MODEL_INPUT_SCHEMAS } from "@acebatch/contracts";
import { describe, expect, it } from "vitest";
import { INPUT_FIELDS } from "./fields.ts";

describe("input field catalog", () => {
  it("names exactly the fields of the four provider schemas", () => {
    const keys = new Set<string>();
    for (const schema of Object.values(MODEL_INPUT_SCHEMAS)) for (const key of Object.keys(schema.shape)) keys.add(key);
    expect([...INPUT_FIELDS].sort()).toEqual([...keys].sort());
  });
});
