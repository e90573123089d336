import { execFile } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createHash } from "node:crypto";

import { createWavStream, parseWavHeader } from "@acebatch/audio";

/**
 * Test inputs and independent measurements for the finishing tests. It calls ffmpeg directly
 * (execFile), not through the package's runner, so a bug there cannot hide itself here.
 */

const run = promisify(execFile);

export async function makeTempDir(label: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `acebatch-finishing-${label}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A synthesized 16-bit groove (pad, bass, kick on every beat) at the tags' BPM. */
export async function synthTrack(
  path: string,
  options: { durationSeconds: number; seed?: number; tags?: string; sampleRate?: number },
): Promise<string> {
  await pipeline(createWavStream({ seed: 1, ...options }), createWriteStream(path));
  return path;
}

/** A 16-bit WAV from an ffmpeg lavfi source (e.g. "sine=frequency=440:duration=5"), optionally filtered. */
export async function lavfiTrack(path: string, source: string, filters?: string): Promise<string> {
  const args = ["-hide_banner", "-nostdin", "-y", "-f", "lavfi", "-i", source];
  if (filters !== undefined) args.push("-af", filters);
  await run("ffmpeg", [...args, "-c:a", "pcm_s16le", path]);
  return path;
}

export interface Pcm16 {
  sampleRate: number;
  channels: number;
  frames: number;
  /** Interleaved samples. */
  samples: Int16Array;
}

/** Read a 16-bit PCM WAV into memory (test files are small). */
export async function readPcm16Wav(path: string): Promise<Pcm16> {
  const bytes = await readFile(path);
  const parsed = parseWavHeader(bytes, bytes.length);
  if (parsed.status !== "ok" || parsed.info.bitsPerSample !== 16) throw new Error(`${path} is not a 16-bit WAV`);
  const { info } = parsed;
  const samples = new Int16Array(info.frames * info.channels);
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(info.dataOffset + i * 2);
  return { sampleRate: info.sampleRate, channels: info.channels, frames: info.frames, samples };
}

/** Decode any file with ffmpeg to a 16-bit WAV at its own rate, in a sibling temp file, and read it. */
export async function decodeIndependently(path: string): Promise<Pcm16> {
  const out = `${path}.decoded.wav`;
  await run("ffmpeg", ["-hide_banner", "-nostdin", "-y", "-i", path, "-c:a", "pcm_s16le", out]);
  try {
    return await readPcm16Wav(out);
  } finally {
    await rm(out, { force: true });
  }
}

/**
 * The jump across the loop seam (last frame → first frame, largest over channels) and the largest
 * sample-to-sample jump inside the file.
 */
export function seamJumps(pcm: Pcm16): { seam: number; maxInside: number } {
  const { samples, channels, frames } = pcm;
  let seam = 0;
  let maxInside = 0;
  for (let c = 0; c < channels; c++) {
    seam = Math.max(seam, Math.abs(samples[c]! - samples[(frames - 1) * channels + c]!));
    for (let f = 1; f < frames; f++) {
      maxInside = Math.max(maxInside, Math.abs(samples[f * channels + c]! - samples[(f - 1) * channels + c]!));
    }
  }
  return { seam, maxInside };
}

export async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}
