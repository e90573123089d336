import { describe, expect, it } from "vitest";
import { parseRange } from "./byte-range.ts";

describe("parseRange", () => {
  it.each([
    ["bytes=0-9", { start: 0, end: 9 }],
    ["bytes=10-", { start: 10, end: 99 }],
    ["bytes=-10", { start: 90, end: 99 }],
    ["bytes=-1000", { start: 0, end: 99 }],
    ["bytes=50-5000", { start: 50, end: 99 }],
    [" bytes=99-99 ", { start: 99, end: 99 }],
  ])("serves %j of a 100-byte file as %j", (header, range) => {
    expect(parseRange(header, 100)).toEqual(range);
  });

  it.each(["bytes=100-", "bytes=100-200", "bytes=-0", "bytes=99999999999999999999-"])("refuses %j of a 100-byte file as unsatisfiable", (header) => {
    expect(parseRange(header, 100)).toBe("unsatisfiable");
  });

  it.each([undefined, "", " ", "bytes=-", "bytes=5-2", "bytes=0-1,3-4", "items=0-1", "bytes=a-b", "bytes 0-1"])("ignores %j (the whole file is served)", (header) => {
    expect(parseRange(header, 100)).toBeNull();
  });

  it("finds nothing to serve in an empty file", () => {
    expect(parseRange("bytes=0-", 0)).toBe("unsatisfiable");
    expect(parseRange("bytes=-5", 0)).toBe("unsatisfiable");
  });
});
