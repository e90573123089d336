import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { waitFor } from "@acebatch/testing";
import { ADMIN_KEY, type Stack } from "./stack.ts";

/*
 * Independent measurements for the audio finishing e2e tests: WAV parsed here from its chunks,
 * loudness and decoded length from ffmpeg/ffprobe called directly (never through @acebatch/finishing).
 */

const run = promisify(execFile);

export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** GET a path of the stack's API as bytes. */
export async function download(stack: Stack, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, ...headers } });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** Wait until a job's finishing is done (throws when it failed). */
export async function waitForFinish(stack: Stack, id: string, timeoutMs = 90_000) {
  return waitFor(
    async () => {
      const { body } = await stack.api("GET", `/v1/jobs/${id}`);
      if (body.finish_status === "failed") throw new Error(`finishing of ${id} failed: ${JSON.stringify(body.finish_error)}`);
      return body.finish_status === "done" ? body : undefined;
    },
    { timeoutMs, intervalMs: 200, message: `finishing of ${id} did not complete` },
  );
}

/** A 16-bit PCM WAV's sample rate, channels and per-channel samples. */
export function parseWav(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("not a RIFF/WAVE file");
  let offset = 12;
  let sampleRate = 0;
  let channels = 0;
  while (offset + 8 <= bytes.length) {
    const size = view.getUint32(offset + 4, true);
    if (tag(offset) === "fmt ") {
      if (view.getUint16(offset + 8, true) !== 1 || view.getUint16(offset + 22, true) !== 16) throw new Error("not 16-bit PCM");
      channels = view.getUint16(offset + 10, true);
      sampleRate = view.getUint32(offset + 12, true);
    }
    if (tag(offset) === "data") {
      const frames = Math.floor(Math.min(size, bytes.length - offset - 8) / (2 * channels));
      const samples = Array.from({ length: channels }, () => new Int16Array(frames));
      for (let i = 0; i < frames; i++) {
        for (let c = 0; c < channels; c++) samples[c]![i] = view.getInt16(offset + 8 + (i * channels + c) * 2, true);
      }
      return { sampleRate, channels, frames, samples };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error("no data chunk");
}

/** Integrated loudness in LUFS by ffmpeg's ebur128 filter. */
export async function ebur128(path: string): Promise<number> {
  const { stderr } = await run("ffmpeg", ["-hide_banner", "-nostats", "-i", path, "-filter_complex", "ebur128=peak=true", "-f", "null", "-"]);
  const integrated = /I:\s+(-?[\d.]+) LUFS/.exec(stderr.slice(stderr.lastIndexOf("Summary:")));
  if (!integrated) throw new Error(`no ebur128 summary for ${path}`);
  return Number(integrated[1]);
}

/** Decoded length: frames out of ffmpeg's decoder at the stream's sample rate. */
export async function decodedDuration(path: string): Promise<{ frames: number; sampleRate: number; seconds: number }> {
  const probe = await run("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate", "-of", "csv=p=0", path]);
  const sampleRate = Number(probe.stdout.trim());
  const { stdout } = await run("ffmpeg", ["-hide_banner", "-nostats", "-v", "error", "-i", path, "-map", "0:a:0", "-ac", "1", "-f", "s16le", "-"], {
    encoding: "buffer",
    maxBuffer: 256 * 1024 * 1024,
  });
  const frames = stdout.length / 2;
  return { frames, sampleRate, seconds: frames / sampleRate };
}
