import { stat } from "node:fs/promises";

import { AUDIO_CONTENT_TYPES } from "@acebatch/audio";
import type { FinishFormat } from "@acebatch/contracts";

import { FFMPEG_BASE_ARGS, runTool, type FfmpegTools } from "./ffmpeg.ts";
import { FinishError } from "./finish-error.ts";
import { countDecodedFrames } from "./pcm-io.ts";

/** One delivered file of the finished audio. */
export interface Rendition {
  path: string;
  contentType: string;
  /** Measured by decoding the file back: frames out of the decoder / its sample rate. */
  durationSeconds: number;
  bytes: number;
}

// The sample rates MPEG-1/2/2.5 layer III can carry; anything else is resampled for MP3 only.
const MP3_RATES = new Set([8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000]);

function encoderArgs(format: Exclude<FinishFormat, "wav">, sampleRate: number): { args: string[]; sampleRate: number } {
  switch (format) {
    case "flac":
      return { args: ["-c:a", "flac", "-f", "flac"], sampleRate };
    case "ogg":
      return { args: ["-c:a", "libvorbis", "-q:a", "5", "-f", "ogg"], sampleRate };
    case "mp3": {
      const rate = MP3_RATES.has(sampleRate) ? sampleRate : sampleRate % 44_100 === 0 ? 44_100 : 48_000;
      return { args: ["-c:a", "libmp3lame", "-b:a", "192k", "-ar", String(rate), "-f", "mp3"], sampleRate: rate };
    }
  }
}

/**
 * Encode the finished WAV to `format` at `outPath` (FLAC; MP3 via LAME at 192 kb/s; Ogg Vorbis
 * q5), or for "wav" describe the finished file itself, then decode the result back and fail with
 * FinishError("verification_failed") unless it lasts as long as the finished audio ±1 frame.
 */
export async function encodeRendition(
  tools: FfmpegTools,
  finishedWav: string,
  outPath: string,
  format: FinishFormat,
  source: { sampleRate: number; frames: number; signal?: AbortSignal | undefined },
): Promise<Rendition> {
  let rate = source.sampleRate;
  if (format !== "wav") {
    const encoder = encoderArgs(format, source.sampleRate);
    rate = encoder.sampleRate;
    await runTool(tools.ffmpeg, [...FFMPEG_BASE_ARGS, "-i", finishedWav, "-map", "0:a:0", "-map_metadata", "-1", ...encoder.args, outPath], {
      signal: source.signal,
    });
  }
  const decoded = await countDecodedFrames(tools, format === "wav" ? finishedWav : outPath, source.signal);
  const expected = source.frames / source.sampleRate;
  const durationSeconds = decoded / rate;
  if (Math.abs(durationSeconds - expected) > 1 / rate + 1e-9) {
    throw new FinishError(
      "verification_failed",
      `${format} rendition decodes to ${decoded} frames (${durationSeconds.toFixed(6)} s at ${rate} Hz), ` +
        `expected ${expected.toFixed(6)} s ±1 frame`,
    );
  }
  const { size } = await stat(format === "wav" ? finishedWav : outPath);
  return { path: outPath, contentType: AUDIO_CONTENT_TYPES[format], durationSeconds, bytes: size };
}
