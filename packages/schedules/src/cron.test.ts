import { describe, expect, it } from "vitest";
import { CronSyntaxError, parseCron } from "./cron.ts";

describe("cron macros", () => {
  it("expand the named macros, case-insensitively", () => {
    expect(parseCron("@daily").source).toBe(parseCron("0 0 * * *").source);
    expect(parseCron(" @HOURLY ").source).toBe(parseCron("0 * * * *").source);
  });

  it("refuse names of Object.prototype's members as a syntax error, not a crash", () => {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "@constructor"]) {
      expect(() => parseCron(name), name).toThrow(CronSyntaxError);
    }
  });
});
