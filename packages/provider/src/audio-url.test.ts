import { describe, expect, it } from "vitest";

import { findAudioUrl } from "./audio-url.ts";

describe("findAudioUrl", () => {
  it("prefers output.audio", () => {
    expect(findAudioUrl({ preview: "https://cdn.example/p.png", audio: "https://cdn.example/a.wav" })).toBe("https://cdn.example/a.wav");
  });

  it("falls back to output.audios[0]", () => {
    expect(findAudioUrl({ image: "https://cdn.example/i.png", audios: ["https://cdn.example/1.flac", "https://cdn.example/2.flac"] })).toBe(
      "https://cdn.example/1.flac",
    );
  });

  it("looks inside audio / audios objects before the rest of output", () => {
    expect(findAudioUrl({ cover: "https://cdn.example/c.png", audio: { url: "https://cdn.example/a.mp3" } })).toBe("https://cdn.example/a.mp3");
    expect(findAudioUrl({ cover: "https://cdn.example/c.png", audios: [{ url: "https://cdn.example/b.mp3" }] })).toBe("https://cdn.example/b.mp3");
  });

  it("walks output for the first http(s) URL", () => {
    expect(findAudioUrl({ files: [{ kind: "x", where: { href: "http://cdn.example/deep.wav" } }] })).toBe("http://cdn.example/deep.wav");
  });

  it("ignores non-URL strings and other schemes", () => {
    expect(findAudioUrl({ audio: "not a url", note: "ftp://cdn.example/a.wav", other: "javascript:alert(1)" })).toBeNull();
    expect(findAudioUrl(null)).toBeNull();
    expect(findAudioUrl(undefined)).toBeNull();
    expect(findAudioUrl({})).toBeNull();
  });

  it("gives up past a bounded depth", () => {
    let deep: unknown = "https://cdn.example/too-deep.wav";
    for (let i = 0; i < 20; i++) deep = { next: deep };
    expect(findAudioUrl(deep)).toBeNull();
  });
});
