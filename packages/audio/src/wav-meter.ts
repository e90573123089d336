import { endianness } from "node:os";

import { checkWaveformColumns, createPeakAccumulator, type WaveformPeaks } from "./waveform-peaks.ts";
import { parseWavHeader, type WavInfo } from "./wav-header.ts";

/** What a meter measured once the whole file has passed. */
export interface WavMeasurement {
  /** The header as parsed against the file's final size (what `probeAudioFile` reports from disk). */
  info: WavInfo;
  peaks: WaveformPeaks;
}

export interface WavMeter {
  /** The next bytes of the file, in order. Never throws: anything it cannot follow makes it step aside. */
  push(chunk: Uint8Array): void;
  /** After the last chunk: the measurement, or null when the caller must measure the file on disk. */
  finish(totalBytes: number): WavMeasurement | null;
}

/** Header bytes a meter buffers before it gives up (a header with huge LIST chunks is read from disk instead). */
const MAX_BUFFERED_HEADER_BYTES = 64 * 1024;
const LITTLE_ENDIAN = endianness() === "LE";

/**
 * Measures a 16-bit PCM WAV file and folds its waveform peaks while its bytes stream past (a
 * download on its way to disk), so the file is not read back for either. The same header parser
 * and peak accumulator as `probeAudioFile` and `wavPeaks`, so the results are identical.
 *
 * It only ever speeds up the common case: for any other encoding, a data chunk of unknown size, a
 * header it cannot parse or one that disagrees with the final file size, `finish` returns null and
 * the caller measures the file on disk as before (which also produces the error a bad file deserves).
 */
export function createWavMeter(columns: number): WavMeter {
  checkWaveformColumns(columns);
  // The bytes up to the end of the header, kept for `finish`; null once the meter has stepped aside.
  let head: Buffer | null = Buffer.alloc(0);
  let info: WavInfo | null = null;
  let peaks: ReturnType<typeof createPeakAccumulator> | null = null;
  let position = 0; // bytes of the file seen so far
  let dataEnd = 0; // file offset just past the last whole frame
  let carried = -1; // the low byte of a sample split across two chunks, or -1
  const one = new Int16Array(1);
  let scratch: Int16Array | null = null; // for chunks whose samples are not 2-byte aligned in memory

  function stepAside(): void {
    head = null;
    peaks = null;
    scratch = null;
  }

  /** Folds the data bytes of `bytes`, which starts at file offset `at`. */
  function fold(bytes: Uint8Array, at: number): void {
    let i = Math.max(0, info!.dataOffset - at);
    const end = Math.min(bytes.length, dataEnd - at);
    if (end <= i) return;
    if (carried >= 0) {
      one[0] = carried | (bytes[i]! << 8); // wraps to the signed value
      peaks!.add(one, 1, 1 / 32_768);
      carried = -1;
      i += 1;
    }
    const samples = (end - i) >> 1;
    if (samples > 0) {
      const offset = bytes.byteOffset + i;
      let view: Int16Array;
      if (offset % 2 === 0) {
        view = new Int16Array(bytes.buffer, offset, samples);
      } else {
        if (scratch === null || scratch.length < samples) scratch = new Int16Array(Math.max(samples, 32_768));
        new Uint8Array(scratch.buffer, 0, samples * 2).set(bytes.subarray(i, i + samples * 2));
        view = scratch;
      }
      peaks!.add(view, samples, 1 / 32_768);
      i += samples * 2;
    }
    if (i < end) carried = bytes[i]!;
  }

  function readHeader(chunk: Uint8Array): void {
    // Parsed in place when the header arrives in one chunk (the usual case): nothing is copied but the header.
    const candidate = head!.length === 0 ? chunk : Buffer.concat([head!, chunk]);
    const parsed = parseWavHeader(candidate, null);
    if (parsed.status === "need-more") {
      if (parsed.bytes > MAX_BUFFERED_HEADER_BYTES) return stepAside();
      head = Buffer.from(candidate);
      return;
    }
    if (parsed.status !== "ok") return stepAside(); // a data size of "to end of file": measured on disk
    const found = parsed.info;
    if (!LITTLE_ENDIAN || found.sampleFormat !== 1 || found.bitsPerSample !== 16 || found.blockAlign !== 2 * found.channels) return stepAside();
    info = found;
    dataEnd = found.dataOffset + found.frames * found.blockAlign;
    peaks = createPeakAccumulator(columns, found.frames, found.channels);
    head = Buffer.from(candidate.subarray(0, found.dataOffset));
    // Parsing only succeeds once the bytes up to the data chunk are in, so the bytes before this
    // chunk are all header: every data byte seen so far is in this chunk.
    fold(chunk, position);
  }

  return {
    push(chunk) {
      if (head === null) return; // stepped aside
      try {
        if (info === null) readHeader(chunk);
        else fold(chunk, position);
      } catch {
        stepAside(); // a malformed header: the on-disk probe names the problem
      }
      position += chunk.length;
    },
    finish(totalBytes) {
      if (head === null || info === null || peaks === null || position !== totalBytes) return null;
      let final;
      try {
        final = parseWavHeader(head, totalBytes);
      } catch {
        return null;
      }
      if (final.status !== "ok" || final.info.frames === 0 || final.info.frames !== info.frames || final.info.dataOffset !== info.dataOffset) return null;
      return { info: final.info, peaks: peaks.result(final.info.sampleRate) };
    },
  };
}
