import { open } from "node:fs/promises";
import { endianness } from "node:os";

import { AudioProbeError } from "./audio-probe-error.ts";
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

/** Bytes read from the data chunk at a time (rounded down to whole frames). */
const READ_BYTES = 256 * 1024;

/**
 * Waveform peaks of a PCM WAV file, read in Node without ffmpeg: one pass over the data chunk
 * through one read buffer, constant memory. Resolves null when the file's encoding is one this
 * reader does not decode (A-law, µ-law, ADPCM ...): ffmpeg's path handles those. Throws
 * AudioProbeError for a malformed or truncated file.
 *
 * The buffer is allocated once per call and every read fills it again (no read stream): a worker
 * reads a 46 MB WAV per job at dozens of jobs at once, and a fresh buffer per chunk is that much
 * short-lived ArrayBuffer memory a second, held until V8's next GC (README "Memory").
 */
export async function wavPeaks(path: string, options: { columns?: number; signal?: AbortSignal } = {}): Promise<WaveformPeaks | null> {
  const handle = await open(path, "r");
  try {
    const info = await readWavInfo(handle, (await handle.stat()).size);
    const read = sampleReader(info);
    if (!read) return null;
    const peaks = createPeakAccumulator(options.columns ?? 800, info.frames, info.channels);
    const sampleBytes = info.bitsPerSample / 8;
    const usableBytes = info.frames * info.blockAlign;
    if (usableBytes === 0) return peaks.result(info.sampleRate);

    // 16-bit PCM (what the provider and the simulator send) is folded through an Int16Array view
    // on a little-endian machine; other encodings sample by sample through their reader.
    const int16View = info.sampleFormat === 1 && info.bitsPerSample === 16 && endianness() === "LE";
    const samples = int16View ? null : new Float64Array(16_384);
    // A whole number of frames (at least one), and never more than the data: its own ArrayBuffer
    // at offset 0, so the Int16Array view is always aligned.
    const buffer = Buffer.allocUnsafeSlow(Math.min(usableBytes, Math.max(1, Math.floor(READ_BYTES / info.blockAlign)) * info.blockAlign));
    let position = 0; // bytes of the data chunk read so far
    let carried = 0; // bytes of a partial sample at the start of the buffer (short reads)
    while (position < usableBytes) {
      options.signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, carried, Math.min(buffer.length - carried, usableBytes - position), info.dataOffset + position);
      if (bytesRead === 0) throw new AudioProbeError(`truncated WAV: the file ended ${usableBytes - position} bytes before the end of its data chunk`);
      position += bytesRead;
      const filled = carried + bytesRead;
      const whole = filled - (filled % sampleBytes);
      if (samples === null) {
        peaks.add(new Int16Array(buffer.buffer, buffer.byteOffset, whole / 2), whole / 2, 1 / 32_768);
      } else {
        let count = 0;
        for (let offset = 0; offset < whole; offset += sampleBytes) {
          samples[count++] = read(buffer, offset);
          if (count === samples.length) {
            peaks.add(samples, count);
            count = 0;
          }
        }
        peaks.add(samples, count);
      }
      buffer.copyWithin(0, whole, filled);
      carried = filled - whole;
    }
    return peaks.result(info.sampleRate);
  } finally {
    await handle.close();
  }
}
