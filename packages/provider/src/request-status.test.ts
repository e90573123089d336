import { describe, expect, it } from "vitest";

import { normalizeRequestStatus } from "./request-status.ts";
import { parseCostUsd } from "./result-fields.ts";

describe("normalizeRequestStatus", () => {
  it("normalises case and the spellings RunComfy uses", () => {
    expect(normalizeRequestStatus("IN_QUEUE")).toBe("in_queue");
    expect(normalizeRequestStatus("in-progress")).toBe("in_progress");
    expect(normalizeRequestStatus("Completed")).toBe("completed");
    expect(normalizeRequestStatus("succeeded")).toBe("completed");
    expect(normalizeRequestStatus("FAILED")).toBe("failed");
    expect(normalizeRequestStatus("canceled")).toBe("cancelled");
    expect(normalizeRequestStatus("cancelled")).toBe("cancelled");
  });

  it("returns null for an unknown status", () => {
    expect(normalizeRequestStatus("exploded")).toBeNull();
    expect(normalizeRequestStatus("toString")).toBeNull();
    expect(normalizeRequestStatus("")).toBeNull();
  });
});

describe("parseCostUsd", () => {
  it("accepts numbers and numeric strings", () => {
    expect(parseCostUsd(0.018)).toBe(0.018);
    expect(parseCostUsd("0.018")).toBe(0.018);
    expect(parseCostUsd(" 2e-4 ")).toBe(0.0002);
    expect(parseCostUsd(0)).toBe(0);
  });

  it("returns null for anything else", () => {
    expect(parseCostUsd(undefined)).toBeNull();
    expect(parseCostUsd(null)).toBeNull();
    expect(parseCostUsd("$0.01")).toBeNull();
    expect(parseCostUsd(-1)).toBeNull();
    expect(parseCostUsd(Number.NaN)).toBeNull();
    expect(parseCostUsd({ usd: 1 })).toBeNull();
  });
});
