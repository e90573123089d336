import { Readable } from "node:stream";

import { createSynth } from "./synth-engine.ts";
import { pcm16WavBytes, writePcm16WavHeader } from "./wav-header.ts";

/** What to synthesize; the same options always give byte-identical files. */
export interface WavStreamOptions {
  /** Track length in seconds; the file holds exactly round(durationSeconds × sampleRate) frames. */
  durationSeconds: number;
  /** Hz, default 48000. */
  sampleRate?: number;
  /** Default 2 (stereo). */
  channels?: number;
  seed: number;
  /** The generation tags; a "NNN BPM" tag sets the tempo. */
  tags?: string;
}

export const DEFAULT_SAMPLE_RATE = 48_000;
export const DEFAULT_CHANNELS = 2;
const CHUNK_FRAMES = 4096;

function resolve(options: WavStreamOptions): { frames: number; sampleRate: number; channels: number } {
  const sampleRate = options.sampleRate ?? DEFAULT_SAMPLE_RATE;
  const channels = options.channels ?? DEFAULT_CHANNELS;
  if (!Number.isFinite(options.durationSeconds) || options.durationSeconds < 0) {
    throw new RangeError(`durationSeconds must be a finite number ≥ 0, got ${options.durationSeconds}`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 1) throw new RangeError(`sampleRate must be a positive integer, got ${sampleRate}`);
  if (!Number.isInteger(channels) || channels < 1 || channels > 16) throw new RangeError(`channels must be 1–16, got ${channels}`);
  return { frames: Math.round(options.durationSeconds * sampleRate), sampleRate, channels };
}

/** Frames in the synthesized file: round(durationSeconds × sampleRate). */
export function wavFrameCount(options: WavStreamOptions): number {
  return resolve(options).frames;
}

/** Size in bytes of the file `createWavStream` produces for these options (for Content-Length). */
export function wavByteLength(options: WavStreamOptions): number {
  const { frames, channels } = resolve(options);
  return pcm16WavBytes(frames, channels);
}

/**
 * Stream a synthesized 16-bit PCM WAV file, rendered lazily in chunks of 4096 frames as the
 * consumer reads, so memory stays flat whatever the duration.
 */
export function createWavStream(options: WavStreamOptions): Readable {
  const { frames: totalFrames, sampleRate, channels } = resolve(options);
  const synth = createSynth({ sampleRate, channels, seed: options.seed, tags: options.tags ?? "", totalFrames });
  let headerSent = false;
  let rendered = 0;
  return new Readable({
    read() {
      if (!headerSent) {
        headerSent = true;
        if (!this.push(writePcm16WavHeader(totalFrames, sampleRate, channels))) return;
      }
      for (;;) {
        if (rendered >= totalFrames) {
          this.push(null);
          return;
        }
        const frames = Math.min(CHUNK_FRAMES, totalFrames - rendered);
        // A fresh buffer per chunk: the stream keeps a reference until it is consumed.
        const samples = new Int16Array(frames * channels);
        synth.render(samples, frames);
        rendered += frames;
        if (!this.push(toLittleEndian(samples))) return;
      }
    },
  });
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function toLittleEndian(samples: Int16Array): Buffer {
  const bytes = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  return LITTLE_ENDIAN ? bytes : bytes.swap16();
}
