import { describe, expect, it } from "vitest";

import { detectAudioFormat } from "./detect-format.ts";

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p)));

describe("detectAudioFormat", () => {
  it("recognises RIFF/WAVE", () => {
    expect(detectAudioFormat(bytes("RIFF", [0x24, 0, 0, 0], "WAVEfmt "))).toEqual({ format: "wav", contentType: "audio/wav" });
  });

  it("does not take other RIFF containers (AVI) for WAV", () => {
    expect(detectAudioFormat(bytes("RIFF", [0, 0, 0, 0], "AVI LIST"))).toBeNull();
  });

  it("recognises MP3 by an ID3 tag or an MPEG frame sync", () => {
    expect(detectAudioFormat(bytes("ID3", [4, 0, 0, 0, 0, 0, 0, 0, 0]))).toEqual({ format: "mp3", contentType: "audio/mpeg" });
    expect(detectAudioFormat(bytes([0xff, 0xfb, 0x90, 0x00]))?.format).toBe("mp3");
    expect(detectAudioFormat(bytes([0xff, 0xf3, 0x64, 0xc4]))?.format).toBe("mp3");
  });

  it("does not take AAC ADTS (layer 00) for MP3", () => {
    expect(detectAudioFormat(bytes([0xff, 0xf1, 0x50, 0x80]))).toBeNull();
  });

  it("recognises FLAC and Ogg", () => {
    expect(detectAudioFormat(bytes("fLaC", [0, 0, 0, 34]))).toEqual({ format: "flac", contentType: "audio/flac" });
    expect(detectAudioFormat(bytes("OggS", [0, 2, 0, 0]))).toEqual({ format: "ogg", contentType: "audio/ogg" });
  });

  it("returns null for HTML, JSON, empty and short input", () => {
    expect(detectAudioFormat(bytes("<!DOCTYPE html>"))).toBeNull();
    expect(detectAudioFormat(bytes('{"error": 1}'))).toBeNull();
    expect(detectAudioFormat(new Uint8Array())).toBeNull();
    expect(detectAudioFormat(bytes("RIFF"))).toBeNull();
  });
});
