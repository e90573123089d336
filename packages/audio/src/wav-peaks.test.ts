import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createPeakAccumulator } from "./waveform-peaks.ts";
import { wavPeaks } from "./wav-peaks.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "acebatch-wav-peaks-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A canonical 44-byte-header PCM WAV around `data`. */
function wav(bits: number, channels: number, sampleRate: number, data: Buffer): Buffer {
  const blockAlign = (channels * bits) / 8;
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVEfmt ", 8, "latin1");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(bits, 34);
  header.write("data", 36, "latin1");
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** Deterministic noise with a slow envelope, so every column has its own peaks. */
function noise(count: number, max: number): number[] {
  let seed = 11;
  return Array.from({ length: count }, (_, i) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    const envelope = 0.2 + 0.8 * Math.abs(Math.sin(i / 40_000));
    return Math.round((seed / 1_073_741_824 - 1) * envelope * max);
  });
}

describe("wavPeaks", () => {
  // Both files span several of the reader's 256 KiB reads; 24-bit stereo frames (6 bytes) do not
  // divide 256 KiB, so reads end on a frame boundary the reader has to round to.
  it.each([
    { bits: 16, channels: 2, frames: 200_000 },
    { bits: 24, channels: 2, frames: 150_001 },
    { bits: 16, channels: 1, frames: 7 }, // less than one read
  ])("folds every sample of a $bits-bit, $channels-channel file read in chunks ($frames frames)", async ({ bits, channels, frames }) => {
    const bytes = bits / 8;
    const max = 2 ** (bits - 1);
    const samples = noise(frames * channels, max - 1);
    const data = Buffer.alloc(samples.length * bytes);
    samples.forEach((v, i) => data.writeIntLE(v, i * bytes, bytes));
    const path = join(dir, `${bits}-${channels}-${frames}.wav`);
    await writeFile(path, wav(bits, channels, 48_000, data));

    const reference = createPeakAccumulator(333, frames, channels);
    reference.add(samples, samples.length, 1 / max);
    expect(await wavPeaks(path, { columns: 333 })).toEqual(reference.result(48_000));
  });

  it("stops when its signal is aborted", async () => {
    const path = join(dir, "aborted.wav");
    await writeFile(path, wav(16, 2, 48_000, Buffer.alloc(400_000)));
    await expect(wavPeaks(path, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
  });
});
