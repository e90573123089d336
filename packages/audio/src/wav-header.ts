import { AudioProbeError } from "./audio-probe-error.ts";

/** What a WAV header says about the PCM that follows it. */
export interface WavInfo {
  /** 1 = integer PCM, 3 = IEEE float, 0xFFFE = WAVE_FORMAT_EXTENSIBLE. */
  audioFormat: number;
  /** The encoding of the samples: `audioFormat`, or for WAVE_FORMAT_EXTENSIBLE its sub-format's code (1 PCM, 3 float). */
  sampleFormat: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Bytes per frame (all channels of one sample instant). */
  blockAlign: number;
  /** Byte offset of the first PCM byte. */
  dataOffset: number;
  /** PCM bytes in the data chunk. */
  dataBytes: number;
  frames: number;
  durationSeconds: number;
}

export type WavHeaderParse =
  | { status: "ok"; info: WavInfo }
  /** The prefix is too short: call again with at least `bytes` leading bytes. */
  | { status: "need-more"; bytes: number }
  /** The data chunk runs "to end of file" (size 0 or 0xFFFFFFFF): call again with the total size. */
  | { status: "need-total-size" };

/** Headers (including chunks such as LIST before `data`) larger than this are rejected. */
export const MAX_WAV_HEADER_BYTES = 16 * 1024 * 1024;

const PCM_HEADER_BYTES = 44;
const MAX_RIFF_BYTES = 0xffff_ffff;

function fourcc(view: DataView, offset: number): string {
  return String.fromCharCode(view.getUint8(offset), view.getUint8(offset + 1), view.getUint8(offset + 2), view.getUint8(offset + 3));
}

/**
 * Parse a RIFF/WAVE header from the first bytes of a file, walking its chunks (LIST, fact, bext ...
 * are skipped) to `fmt ` and `data`. `totalBytes` is the size of the whole file when known: it
 * resolves a data size of 0 or 0xFFFFFFFF ("to end of file", written by streaming encoders) and
 * detects truncation. Throws AudioProbeError for anything malformed.
 */
export function parseWavHeader(head: Uint8Array, totalBytes: number | null): WavHeaderParse {
  const needMore = (bytes: number): WavHeaderParse => {
    if (totalBytes !== null && bytes > totalBytes) {
      throw new AudioProbeError(`truncated WAV: the header needs ${bytes} bytes but the file has ${totalBytes}`);
    }
    if (bytes > MAX_WAV_HEADER_BYTES) {
      throw new AudioProbeError(`WAV header is larger than ${MAX_WAV_HEADER_BYTES} bytes: no data chunk found`);
    }
    return { status: "need-more", bytes };
  };
  if (head.length < 12) return needMore(12);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (fourcc(view, 0) !== "RIFF" || fourcc(view, 8) !== "WAVE") {
    throw new AudioProbeError("not a WAV file: missing RIFF/WAVE signature");
  }
  let fmt: Omit<WavInfo, "dataOffset" | "dataBytes" | "frames" | "durationSeconds"> | null = null;
  let offset = 12;
  for (;;) {
    if (totalBytes !== null && offset + 8 > totalBytes) {
      throw new AudioProbeError(`truncated WAV: no data chunk in ${totalBytes} bytes`);
    }
    if (head.length < offset + 8) return needMore(offset + 8);
    const id = fourcc(view, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === "fmt ") {
      if (size < 16) throw new AudioProbeError(`malformed WAV: fmt chunk is ${size} bytes, expected at least 16`);
      if (head.length < body + 16) return needMore(body + 16);
      const audioFormat = view.getUint16(body, true);
      // WAVE_FORMAT_EXTENSIBLE carries the real encoding in the first two bytes of its sub-format GUID.
      const extensible = audioFormat === 0xfffe && size >= 40;
      if (extensible && head.length < body + 26) return needMore(body + 26);
      fmt = {
        audioFormat,
        sampleFormat: extensible ? view.getUint16(body + 24, true) : audioFormat,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
      if (fmt.channels === 0 || fmt.sampleRate === 0 || fmt.blockAlign === 0) {
        throw new AudioProbeError(
          `malformed WAV: ${fmt.channels} channels, ${fmt.sampleRate} Hz, block align ${fmt.blockAlign}`,
        );
      }
    } else if (id === "data") {
      if (fmt === null) throw new AudioProbeError("malformed WAV: data chunk before fmt chunk");
      let dataBytes = size;
      if (size === 0 || size === 0xffff_ffff) {
        if (totalBytes === null) return { status: "need-total-size" };
        dataBytes = totalBytes - body;
      } else if (totalBytes !== null && body + size > totalBytes) {
        throw new AudioProbeError(
          `truncated WAV: the data chunk declares ${size} bytes but only ${totalBytes - body} follow the header`,
        );
      }
      const frames = Math.floor(dataBytes / fmt.blockAlign);
      return { status: "ok", info: { ...fmt, dataOffset: body, dataBytes, frames, durationSeconds: frames / fmt.sampleRate } };
    }
    // RIFF chunks are padded to an even length.
    offset = body + size + (size & 1);
    if (offset > MAX_WAV_HEADER_BYTES) return needMore(offset + 8);
  }
}

/** Bytes of a 16-bit PCM WAV file of `frames` frames, header included. */
export function pcm16WavBytes(frames: number, channels: number): number {
  return PCM_HEADER_BYTES + frames * channels * 2;
}

/** The canonical 44-byte header of a 16-bit PCM WAV file with `frames` frames. */
export function writePcm16WavHeader(frames: number, sampleRate: number, channels: number): Buffer {
  const dataBytes = frames * channels * 2;
  if (PCM_HEADER_BYTES - 8 + dataBytes > MAX_RIFF_BYTES) {
    throw new RangeError(`a WAV file cannot hold ${dataBytes} bytes of audio (4 GiB RIFF limit)`);
  }
  const header = Buffer.alloc(PCM_HEADER_BYTES);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(PCM_HEADER_BYTES - 8 + dataBytes, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(dataBytes, 40);
  return header;
}
