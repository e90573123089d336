import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { probeAudioFile } from "./probe.ts";
import { createWavMeter } from "./wav-meter.ts";
import { wavPeaks } from "./wav-peaks.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "acebatch-wav-meter-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface WavParts {
  bits?: number;
  channels?: number;
  format?: number;
  /** Declared data chunk size (default: the data's length). */
  declaredDataBytes?: number;
  /** Chunks placed between `fmt ` and `data` (LIST, fact ...). */
  extraChunk?: Buffer;
  /** Bytes after the data chunk (a trailing LIST chunk). */
  trailer?: Buffer;
}

function wavFile(data: Buffer, parts: WavParts = {}): Buffer {
  const bits = parts.bits ?? 16;
  const channels = parts.channels ?? 2;
  const fmt = Buffer.alloc(24);
  fmt.write("fmt ", 0, "latin1");
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(parts.format ?? 1, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(8000, 12);
  fmt.writeUInt32LE((8000 * channels * bits) / 8, 16);
  fmt.writeUInt16LE((channels * bits) / 8, 20);
  fmt.writeUInt16LE(bits, 22);
  const dataHead = Buffer.alloc(8);
  dataHead.write("data", 0, "latin1");
  dataHead.writeUInt32LE(parts.declaredDataBytes ?? data.length, 4);
  const body = Buffer.concat([Buffer.from("WAVE", "latin1"), fmt, parts.extraChunk ?? Buffer.alloc(0), dataHead, data, parts.trailer ?? Buffer.alloc(0)]);
  const riff = Buffer.alloc(8);
  riff.write("RIFF", 0, "latin1");
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

function listChunk(bytes: number): Buffer {
  const chunk = Buffer.alloc(8 + bytes + (bytes & 1), 0x41); // padded to an even length, as RIFF requires
  chunk.write("LIST", 0, "latin1");
  chunk.writeUInt32LE(bytes, 4);
  return chunk;
}

/** Deterministic 16-bit noise: every column gets its own peaks. */
function pcm16(samples: number, seed = 5): Buffer {
  const data = Buffer.alloc(samples * 2);
  let state = seed;
  for (let i = 0; i < samples; i++) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    data.writeInt16LE(Math.round((state / 1_073_741_824 - 1) * 32_767 * Math.abs(Math.sin(i / 900))), i * 2);
  }
  return data;
}

/**
 * Feeds `file` to a meter in chunks of the given sizes (cycled), each copied to an odd or even
 * byte offset of a larger buffer the way socket reads land, and returns what it measured.
 */
function meter(file: Buffer, sizes: number[], columns = 200) {
  const m = createWavMeter(columns);
  let at = 0;
  for (let n = 0; at < file.length; n++) {
    const size = Math.min(sizes[n % sizes.length]!, file.length - at);
    const shift = n % 2; // alternate alignments
    const backing = Buffer.alloc(size + 1);
    file.copy(backing, shift, at, at + size);
    m.push(backing.subarray(shift, shift + size));
    at += size;
  }
  return m.finish(file.length);
}

async function onDisk(name: string, file: Buffer) {
  const path = join(dir, name);
  await writeFile(path, file);
  return { peaks: await wavPeaks(path, { columns: 200 }), probe: await probeAudioFile(path) };
}

describe("createWavMeter", () => {
  const chunkings = [[65_536], [1], [3, 5, 7], [44], [45, 8_191], [43, 2, 1_000]];

  it.each(chunkings)("measures what reading the file from disk measures, fed in chunks of %j", async (...sizes) => {
    const file = wavFile(pcm16(2 * 7_001), { extraChunk: listChunk(31), trailer: listChunk(12) });
    const expected = await onDisk(`chunks-${sizes.join("-")}.wav`, file);
    const measured = meter(file, sizes);
    expect(measured).not.toBeNull();
    expect(measured!.peaks).toEqual(expected.peaks);
    expect(measured!.info.durationSeconds).toBe(expected.probe.durationSeconds);
    expect(measured!.info.sampleRate).toBe(expected.probe.sampleRate);
    expect(measured!.info.channels).toBe(expected.probe.channels);
  });

  it("measures a mono file whose frames do not fill the last column evenly", async () => {
    const file = wavFile(pcm16(1_234, 9), { channels: 1 });
    const expected = await onDisk("mono.wav", file);
    expect(meter(file, [333])!.peaks).toEqual(expected.peaks);
  });

  it("ignores a trailing odd byte past the last whole frame", async () => {
    const file = wavFile(Buffer.concat([pcm16(400), Buffer.from([0x7f])]));
    const expected = await onDisk("odd.wav", file);
    expect(meter(file, [7])!.peaks).toEqual(expected.peaks);
  });

  it.each([
    ["24-bit samples", wavFile(Buffer.alloc(600), { bits: 24 })],
    ["float samples", wavFile(Buffer.alloc(800), { bits: 32, format: 3 })],
    ["a data size of 'to end of file'", wavFile(pcm16(100), { declaredDataBytes: 0xffff_ffff })],
    ["a data chunk longer than the file (truncated)", wavFile(pcm16(100), { declaredDataBytes: 400 })],
    ["no frames", wavFile(Buffer.alloc(0))],
    ["a header larger than it buffers", wavFile(pcm16(100), { extraChunk: listChunk(70_000) })],
    ["no RIFF signature", Buffer.concat([Buffer.from("RIFX"), wavFile(pcm16(10)).subarray(4)])],
    ["a data chunk before fmt", Buffer.from("RIFF\x20\x00\x00\x00WAVEdata\x04\x00\x00\x00\x00\x00\x00\x00", "latin1")],
  ])("steps aside (the caller measures the file on disk) for %s", (_name, file) => {
    expect(meter(file, [17])).toBeNull();
  });

  it("steps aside when the final size is not what it was fed", () => {
    const file = wavFile(pcm16(100));
    const m = createWavMeter(10);
    m.push(file);
    expect(m.finish(file.length + 1)).toBeNull();
  });
});
