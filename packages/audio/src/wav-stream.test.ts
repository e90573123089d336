import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { describe, expect, it } from "vitest";

import { parseWavHeader } from "./wav-header.ts";
import { createWavStream, wavByteLength, wavFrameCount, type WavStreamOptions } from "./wav-stream.ts";

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

async function render(options: WavStreamOptions): Promise<Buffer> {
  return collect(createWavStream(options));
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

function samples(wav: Buffer): Int16Array {
  const copy = Buffer.from(wav.subarray(44));
  return new Int16Array(copy.buffer, copy.byteOffset, copy.byteLength / 2);
}

/** Beat onsets: 10 ms windows whose energy jumps to 10× the previous window's (the kick's attack). */
function countOnsets(pcm: Int16Array, sampleRate: number): number {
  const window = sampleRate / 100;
  let previous = 1; // so that a kick on the very first frame counts
  let onsets = 0;
  for (let start = 0; start + window <= pcm.length; start += window) {
    let energy = 0;
    for (let i = start; i < start + window; i++) energy += pcm[i]! * pcm[i]!;
    if (energy > previous * 10) onsets++;
    previous = energy;
  }
  return onsets;
}

describe("createWavStream", () => {
  it("produces exactly round(duration × rate) frames and the advertised byte length", async () => {
    const options = { durationSeconds: 2.00001, sampleRate: 48_000, seed: 42, tags: "techno" };
    const wav = await render(options);
    expect(wavFrameCount(options)).toBe(96_000);
    expect(wav.length).toBe(wavByteLength(options));
    expect(wav.length).toBe(44 + 96_000 * 4);
    const header = parseWavHeader(wav, wav.length);
    expect(header.status === "ok" && header.info).toMatchObject({ channels: 2, sampleRate: 48_000, bitsPerSample: 16, frames: 96_000 });
  });

  it("is deterministic for a seed and differs between seeds and between tags", async () => {
    const base = { durationSeconds: 3, seed: 7, tags: "lo-fi, mellow" };
    const a = sha256(await render(base));
    expect(sha256(await render(base))).toBe(a);
    expect(sha256(await render({ ...base, seed: 8 }))).not.toBe(a);
    expect(sha256(await render({ ...base, tags: "metal, aggressive" }))).not.toBe(a);
  });

  it("is never silent and never clips to full scale", async () => {
    const pcm = samples(await render({ durationSeconds: 4, seed: 11, tags: "" }));
    let sum = 0;
    let peak = 0;
    for (const s of pcm) {
      sum += s * s;
      peak = Math.max(peak, Math.abs(s));
    }
    expect(Math.sqrt(sum / pcm.length)).toBeGreaterThan(1000);
    expect(peak).toBeLessThan(32_767);
  });

  it("follows a BPM tag: twice the tempo gives twice the beats", async () => {
    const common = { durationSeconds: 8, sampleRate: 8_000, channels: 1, seed: 5 };
    const slow = samples(await render({ ...common, tags: "house, 60 BPM" }));
    const fast = samples(await render({ ...common, tags: "house, 120 BPM" }));
    const fallback = samples(await render({ ...common, tags: "house" }));
    expect(countOnsets(slow, 8_000)).toBe(8);
    expect(countOnsets(fast, 8_000)).toBe(16);
    expect(countOnsets(fallback, 8_000)).toBe(14); // 100 BPM default: beats at 0, 0.6 s, … 7.8 s
  });

  it("renders a zero-length track as a bare header", async () => {
    const wav = await render({ durationSeconds: 0, seed: 1 });
    expect(wav.length).toBe(44);
  });

  it("rejects nonsense options", () => {
    expect(() => createWavStream({ durationSeconds: -1, seed: 1 })).toThrow(RangeError);
    expect(() => wavByteLength({ durationSeconds: 1, sampleRate: 0, seed: 1 })).toThrow(RangeError);
  });
});
