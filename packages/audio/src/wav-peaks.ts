import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { endianness } from "node:os";

import { readWavInfo } from "./probe.ts";
import { createPeakAccumulator, type WaveformPeaks } from "./waveform-peaks.ts";
import type { WavInfo } from "./wav-header.ts";

/** Decodes one sample at a byte offset to -1…1, the way ffmpeg converts it to float. */
type SampleReader = (buffer: Buffer, offset: number) => number;

/** The decoders for the PCM encodings WAV files carry in practice; null for anything else. */
function sampleReader(info: WavInfo): SampleReader | null {
  const bytes = info.bitsPerSample / 8;
  if (info.blockAlign !== bytes * info.channels) return null;
  if (info.sampleFormat === 1) {
    if (info.bitsPerSample === 8) return (b, o) => (b[o]! - 128) / 128;
    if (info.bitsPerSample === 16) return (b, o) => b.readInt16LE(o) / 32_768;
    if (info.bitsPerSample === 24) return (b, o) => b.readIntLE(o, 3) / 8_388_608;
    if (info.bitsPerSample === 32) return (b, o) => b.readInt32LE(o) / 2_147_483_648;
  }
  if (info.sampleFormat === 3) {
    if (info.bitsPerSample === 32) return (b, o) => b.readFloatLE(o);
    if (info.bitsPerSample === 64) return (b, o) => b.readDoubleLE(o);
  }
  return null;
}

/**
 * Waveform peaks of a PCM WAV file, read in Node without ffmpeg: one streamed pass over the data
 * chunk, constant memory. Resolves null when the file's encoding is one this reader does not
 * decode (A-law, µ-law, ADPCM ...): ffmpeg's path handles those. Throws AudioProbeError
 * for a malformed or truncated file.
 */
export async function wavPeaks(path: string, options: { columns?: number; signal?: AbortSignal } = {}): Promise<WaveformPeaks | null> {
  const handle = await open(path, "r");
  let info: WavInfo;
  try {
    info = await readWavInfo(handle, (await handle.stat()).size);
  } finally {
    await handle.close();
  }
  const read = sampleReader(info);
  if (!read) return null;
  const peaks = createPeakAccumulator(options.columns ?? 800, info.frames, info.channels);
  const sampleBytes = info.bitsPerSample / 8;
  const usableBytes = info.frames * info.blockAlign;
  if (usableBytes === 0) return peaks.result(info.sampleRate);

  // 16-bit PCM (what the provider and the simulator send) is read through an Int16Array view on a
  // little-endian machine; other encodings sample by sample through their reader.
  const int16View = info.sampleFormat === 1 && info.bitsPerSample === 16 && endianness() === "LE";
  const samples = new Float64Array(16_384);
  let carry = Buffer.alloc(0);
  const stream = createReadStream(path, { start: info.dataOffset, end: info.dataOffset + usableBytes - 1, highWaterMark: 256 * 1024, signal: options.signal });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let buffer = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const whole = buffer.length - (buffer.length % sampleBytes);
    if (int16View) {
      if (buffer.byteOffset % 2 !== 0) buffer = Buffer.from(buffer);
      peaks.add(new Int16Array(buffer.buffer, buffer.byteOffset, whole / 2), whole / 2, 1 / 32_768);
    } else {
      let filled = 0;
      for (let offset = 0; offset < whole; offset += sampleBytes) {
        samples[filled++] = read(buffer, offset);
        if (filled === samples.length) {
          peaks.add(samples, filled);
          filled = 0;
        }
      }
      peaks.add(samples, filled);
    }
    carry = Buffer.from(buffer.subarray(whole));
  }
  return peaks.result(info.sampleRate);
}
