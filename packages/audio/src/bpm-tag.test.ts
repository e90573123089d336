import { describe, expect, it } from "vitest";

import { parseBpmTag } from "./bpm-tag.ts";

describe("parseBpmTag", () => {
  it.each([
    ["lo-fi, 120 BPM, mellow", 120],
    ["bpm 90, jazz", 90],
    ["house,128bpm", 128],
    ["BPM: 140", 140],
    ["dnb, 174-bpm", 174],
    ["ballad, 72.5 BPM", 72.5],
  ])("reads %j as %d", (tags, bpm) => {
    expect(parseBpmTag(tags)).toBe(bpm);
  });

  it("returns null without a tempo or with an implausible one", () => {
    expect(parseBpmTag("lo-fi, mellow, piano")).toBeNull();
    expect(parseBpmTag("999 BPM")).toBeNull();
    expect(parseBpmTag("10 bpm")).toBeNull();
    expect(parseBpmTag("120 beats")).toBeNull();
  });
});
