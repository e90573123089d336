import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createWriteStream } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { AudioProbeError } from "./audio-probe-error.ts";
import { probeAudioFile } from "./probe.ts";
import { parseWavHeader, writePcm16WavHeader } from "./wav-header.ts";
import { createWavStream } from "./wav-stream.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "acebatch-audio-probe-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: Uint8Array | string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** A hand-made WAV: fmt, optional extra chunks, then data with `declaredSize` and `actualBytes` of PCM. */
function makeWav(opts: { frames: number; sampleRate: number; channels: number; declaredSize?: number; extraChunks?: Buffer[]; actualBytes?: number }): Buffer {
  const header = writePcm16WavHeader(opts.frames, opts.sampleRate, opts.channels);
  const fmtPart = header.subarray(0, 36);
  const dataBytes = opts.frames * opts.channels * 2;
  const dataHeader = Buffer.alloc(8);
  dataHeader.write("data", 0, "ascii");
  dataHeader.writeUInt32LE(opts.declaredSize ?? dataBytes, 4);
  return Buffer.concat([fmtPart, ...(opts.extraChunks ?? []), dataHeader, Buffer.alloc(opts.actualBytes ?? dataBytes, 1)]);
}

function chunk(id: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, "ascii");
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body, body.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

function flac(sampleRate: number, channels: number, totalSamples: number): Buffer {
  const b = Buffer.alloc(4 + 4 + 34);
  b.write("fLaC", 0, "ascii");
  b[4] = 0x80; // last metadata block, STREAMINFO
  b.writeUIntBE(34, 5, 3);
  b.writeUInt16BE(4096, 8);
  b.writeUInt16BE(4096, 10);
  const packed = (BigInt(sampleRate) << 44n) | (BigInt(channels - 1) << 41n) | (15n << 36n) | BigInt(totalSamples);
  b.writeBigUInt64BE(packed, 18);
  return b;
}

describe("probeAudioFile", () => {
  it("measures a synthesized WAV to the exact frame", async () => {
    const path = join(dir, "synth.wav");
    await pipeline(createWavStream({ durationSeconds: 7.25, seed: 3, tags: "ambient" }), createWriteStream(path));
    const probe = await probeAudioFile(path);
    expect(probe).toEqual({ format: "wav", contentType: "audio/wav", durationSeconds: 7.25, sampleRate: 48_000, channels: 2, bytes: 44 + 348_000 * 4 });
  });

  it("measures a mono 44.1 kHz WAV with an odd duration", async () => {
    const path = join(dir, "mono.wav");
    await pipeline(createWavStream({ durationSeconds: 5.123, sampleRate: 44_100, channels: 1, seed: 1 }), createWriteStream(path));
    const probe = await probeAudioFile(path);
    expect(probe.durationSeconds).toBe(225_924 / 44_100);
    expect(probe.channels).toBe(1);
  });

  it("skips LIST and other chunks (odd-sized, padded) before data", async () => {
    const extra = [chunk("LIST", Buffer.from("INFOISFT\x05\x00\x00\x00Lavf\x00", "latin1")), chunk("junk", Buffer.alloc(7))];
    const path = await file("list.wav", makeWav({ frames: 22_050, sampleRate: 22_050, channels: 2, extraChunks: extra }));
    expect((await probeAudioFile(path)).durationSeconds).toBe(1);
  });

  it.each([0, 0xffff_ffff])("reads a data size of %d as 'to the end of the file'", async (declaredSize) => {
    const path = await file(`stream-${declaredSize}.wav`, makeWav({ frames: 16_000, sampleRate: 8_000, channels: 1, declaredSize }));
    expect((await probeAudioFile(path)).durationSeconds).toBe(2);
  });

  it("rejects a WAV whose data chunk is cut short", async () => {
    const path = await file("cut.wav", makeWav({ frames: 48_000, sampleRate: 48_000, channels: 2, actualBytes: 1000 }));
    await expect(probeAudioFile(path)).rejects.toThrow(/truncated WAV/);
  });

  it("rejects a WAV cut off inside its header", async () => {
    const path = await file("header-only.wav", makeWav({ frames: 10, sampleRate: 8_000, channels: 1 }).subarray(0, 30));
    await expect(probeAudioFile(path)).rejects.toBeInstanceOf(AudioProbeError);
  });

  it("reads FLAC through music-metadata", async () => {
    const path = await file("a.flac", flac(44_100, 2, 44_100 * 3));
    expect(await probeAudioFile(path)).toMatchObject({ format: "flac", contentType: "audio/flac", durationSeconds: 3, sampleRate: 44_100, channels: 2 });
  });

  it("reads a CBR MP3 through music-metadata", async () => {
    const frame = Buffer.alloc(417);
    frame.set([0xff, 0xfb, 0x90, 0x00]); // MPEG-1 layer III, 128 kb/s, 44.1 kHz
    const path = await file("a.mp3", Buffer.concat(Array.from({ length: 100 }, () => frame)));
    const probe = await probeAudioFile(path);
    expect(probe.format).toBe("mp3");
    expect(probe.durationSeconds).toBeCloseTo((100 * 1152) / 44_100, 2);
  });

  it("rejects garbage, HTML, an empty file and a missing file with AudioProbeError", async () => {
    const paths = [
      await file("garbage.bin", Buffer.from("definitely not audio, just text")),
      await file("page.wav", "<!DOCTYPE html><html><body>404</body></html>"),
      await file("empty.wav", ""),
      join(dir, "does-not-exist.wav"),
      await file("fake.mp3", Buffer.from([0xff, 0xfb, 0x90, 0x00, 1, 2, 3])),
    ];
    for (const path of paths) {
      await expect(probeAudioFile(path), path).rejects.toBeInstanceOf(AudioProbeError);
    }
    await expect(probeAudioFile(paths[0]!)).rejects.toThrow(/not audio/);
  });
});

describe("parseWavHeader on a prefix", () => {
  const wav = makeWav({ frames: 4_800, sampleRate: 48_000, channels: 2, extraChunks: [chunk("LIST", Buffer.alloc(100))] });

  it("asks for more bytes until the data chunk header is in view", () => {
    expect(parseWavHeader(wav.subarray(0, 8), null)).toEqual({ status: "need-more", bytes: 12 });
    const partial = parseWavHeader(wav.subarray(0, 40), null);
    expect(partial.status).toBe("need-more");
    const result = parseWavHeader(wav.subarray(0, 200), null);
    expect(result.status === "ok" && result.info.durationSeconds).toBe(0.1);
  });

  it("asks for the total size when the data chunk runs to the end of the file", () => {
    const open = makeWav({ frames: 8_000, sampleRate: 8_000, channels: 1, declaredSize: 0xffff_ffff });
    expect(parseWavHeader(open.subarray(0, 64), null)).toEqual({ status: "need-total-size" });
    const result = parseWavHeader(open.subarray(0, 64), open.length);
    expect(result.status === "ok" && result.info.durationSeconds).toBe(1);
  });

  it("throws on a non-WAV prefix", () => {
    expect(() => parseWavHeader(Buffer.from("OggS\0\0\0\0\0\0\0\0\0\0"), null)).toThrow(AudioProbeError);
  });
});
