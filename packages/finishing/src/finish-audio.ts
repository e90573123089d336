import { mkdir, mkdtemp, open, readdir, realpath, rename, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";

import { parseBpmTag } from "@acebatch/audio";
import { FINISH_FORMATS, finishSpecSchema, type FinishFormat, type FinishSpecInput } from "@acebatch/contracts";

import { encodeRendition, type Rendition } from "./encode.ts";
import { FFMPEG_BASE_ARGS, resolveTools, runTool, type FfmpegTools, type ToolOptions } from "./ffmpeg.ts";
import { FinishError } from "./finish-error.ts";
import { chooseLoopStart, planLoop, renderLoop } from "./loop.ts";
import { measureLoudness, normalizeLoudness } from "./loudness.ts";
import { decodeToFloatWav, readFloatFrames, readWavInfo, writeFloatWav } from "./pcm-io.ts";
import { detectTempo } from "./tempo.ts";

export interface FinishAudioOptions extends ToolOptions {
  /** The stored original; only ever read. */
  inputPath: string;
  /** Where the finished files land (`<baseName>.wav`, `.flac`, `.mp3`, `.ogg`). */
  outputDir: string;
  /** The job's finish block (validated again here). */
  spec: FinishSpecInput;
  /** The generation tags: a "120 BPM" tag gives the loop its tempo. */
  tags?: string | undefined;
  /** File name stem of the outputs; default "finished". */
  baseName?: string;
}

export interface FinishResult {
  finished: { path: string; format: "wav"; durationSeconds: number; sampleRate: number; channels: number; frames: number };
  loop?: { bars: number; bpm: number; bpmSource: "spec" | "tags" | "detected"; seconds: number; frames: number };
  /** Integrated loudness of the finished file (ebur128), when it is not silent. */
  loudnessLufs?: number;
  /** True peak of the finished file in dBTP (ebur128), when it is not silent. */
  truePeakDb?: number;
  /** How loudnorm applied the target: a plain gain, or its limiter when the peak ceiling needed it. */
  loudnessMode?: "linear" | "dynamic";
  /** "wav" (the finished file) always; the other requested formats. */
  formats: Partial<Record<FinishFormat, Rendition>>;
}

const WORK_DIR_PREFIX = ".finish-";
/** Work directories older than this are leftovers of a killed run and are swept. */
const STALE_WORK_DIR_MS = 6 * 60 * 60 * 1000;

/**
 * Finish a stored track: loop it at whole bars, fade it, normalise its loudness, then encode the
 * requested formats. Steps run on copies inside a temp directory under `outputDir`; the finished
 * files are renamed into place only once all of them exist and verify, so a crash leaves no half
 * file under a final name. The input is never modified.
 */
export async function finishAudio(options: FinishAudioOptions): Promise<FinishResult> {
  const { signal } = options;
  const spec = finishSpecSchema.parse(options.spec);
  const tools = await resolveTools(options);
  const baseName = options.baseName ?? "finished";
  if (!/^[A-Za-z0-9][\w.-]*$/.test(baseName)) throw new RangeError(`baseName must be a plain file name, got "${baseName}"`);
  await mkdir(options.outputDir, { recursive: true });
  const outputDir = await realpath(options.outputDir);
  const inputPath = await realpath(options.inputPath).catch((err: unknown) => {
    throw new FinishError("unfinishable_input", `the original ${options.inputPath} cannot be read: ${(err as Error).message}`, { cause: err });
  });
  const formats: FinishFormat[] = ["wav", ...FINISH_FORMATS.filter((f) => f !== "wav" && spec.formats?.includes(f))];
  const finalPath = (format: FinishFormat) => join(outputDir, `${baseName}.${format}`);
  if (formats.some((f) => resolve(finalPath(f)) === inputPath)) {
    throw new FinishError("unfinishable_input", `the finished files would overwrite the original ${inputPath}: use another baseName or outputDir`);
  }
  await sweepStaleWorkDirs(outputDir);
  const work = await mkdtemp(join(outputDir, WORK_DIR_PREFIX));
  try {
    const decodedPath = join(work, "decoded.wav");
    const info = await decodeToFloatWav(tools, inputPath, decodedPath, signal);
    const { sampleRate, channels } = info;
    let current = decodedPath;
    let frames = info.frames;
    const result: Omit<FinishResult, "finished" | "formats"> = {};

    if (spec.loop !== undefined && spec.loop !== false) {
      const asked = spec.loop === true ? {} : spec.loop;
      const tagBpm = options.tags === undefined ? null : parseBpmTag(options.tags);
      const detected = asked.bpm ?? tagBpm ?? (await detectTempo(tools, decodedPath, signal));
      if (detected === null) {
        throw new FinishError("unfinishable_input", "no steady tempo found in the track: give loop.bpm or a BPM tag (e.g. \"120 BPM\")");
      }
      const plan = planLoop({ totalFrames: frames, sampleRate, bpm: detected, bars: asked.bars });
      const source = await readFloatFrames(decodedPath, info, 0, plan.startSearchFrames + plan.loopFrames + plan.crossfadeFrames);
      const loop = renderLoop(source, channels, plan, chooseLoopStart(source, channels, plan));
      current = join(work, "loop.wav");
      await writeFloatWav(tools, loop, { sampleRate, channels }, current, signal);
      frames = plan.loopFrames;
      const bpmSource = asked.bpm !== undefined ? "spec" : tagBpm !== null ? "tags" : "detected";
      result.loop = { bars: plan.bars, bpm: plan.bpm, bpmSource, seconds: plan.seconds, frames };
    }

    const fadeIn = Math.round((spec.fade_in_seconds ?? 0) * sampleRate);
    const fadeOut = Math.round((spec.fade_out_seconds ?? 0) * sampleRate);
    if (fadeIn > 0 || fadeOut > 0) {
      if (fadeIn + fadeOut > frames) {
        throw new FinishError(
          "unfinishable_input",
          `fade_in_seconds + fade_out_seconds (${(fadeIn + fadeOut) / sampleRate} s) exceed the track's ${(frames / sampleRate).toFixed(3)} s`,
        );
      }
      const filters = [
        ...(fadeIn > 0 ? [`afade=t=in:ss=0:ns=${fadeIn}`] : []),
        ...(fadeOut > 0 ? [`afade=t=out:ss=${frames - fadeOut}:ns=${fadeOut}`] : []),
      ];
      current = await ffmpegStage(tools, current, join(work, "faded.wav"), filters, channels, signal);
    }

    if (spec.loudness_lufs !== undefined) {
      const normalized = join(work, "normalized.wav");
      const { mode } = await normalizeLoudness(tools, current, normalized, {
        targetLufs: spec.loudness_lufs,
        truePeakDb: spec.true_peak_db,
        sampleRate,
        channels,
        frames,
        periodic: result.loop !== undefined,
        signal,
      });
      current = normalized;
      result.loudnessMode = mode;
    }

    // The delivered master: 16-bit PCM WAV at the original's sample rate and channel count.
    const finishedWork = join(work, `${baseName}.wav`);
    await runTool(tools.ffmpeg, [...FFMPEG_BASE_ARGS, "-i", current, "-map_metadata", "-1", "-c:a", "pcm_s16le", "-ac", String(channels), finishedWork], { signal });
    const finishedInfo = await readWavInfo(finishedWork);
    if (finishedInfo.frames !== frames) {
      throw new FinishError("verification_failed", `the finished WAV has ${finishedInfo.frames} frames, expected ${frames}`);
    }

    const renditions: Partial<Record<FinishFormat, Rendition>> = {};
    for (const format of formats) {
      const workPath = format === "wav" ? finishedWork : join(work, `${baseName}.${format}`);
      renditions[format] = { ...(await encodeRendition(tools, finishedWork, workPath, format, { sampleRate, frames, signal })), path: finalPath(format) };
    }
    const loudness = await measureLoudness(finishedWork, { ...options, signal });
    if (Number.isFinite(loudness.integratedLufs)) result.loudnessLufs = loudness.integratedLufs;
    if (Number.isFinite(loudness.truePeakDb)) result.truePeakDb = loudness.truePeakDb;

    // Everything exists and verified: make it durable, then move each file into place atomically.
    signal?.throwIfAborted();
    for (const format of formats) await fsyncFile(join(work, `${baseName}.${format}`));
    for (const format of formats) await rename(join(work, `${baseName}.${format}`), finalPath(format));
    await fsyncFile(outputDir);

    return {
      finished: { path: finalPath("wav"), format: "wav", durationSeconds: frames / sampleRate, sampleRate, channels, frames },
      ...result,
      formats: renditions,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** One ffmpeg filter pass from a float WAV to a float WAV. */
async function ffmpegStage(
  tools: FfmpegTools,
  inPath: string,
  outPath: string,
  filters: string[],
  channels: number,
  signal: AbortSignal | undefined,
): Promise<string> {
  await runTool(tools.ffmpeg, [...FFMPEG_BASE_ARGS, "-i", inPath, "-af", filters.join(","), "-ac", String(channels), "-c:a", "pcm_f32le", outPath], { signal });
  return outPath;
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Remove work directories left behind by a run that was killed (they are never renamed into place). */
async function sweepStaleWorkDirs(outputDir: string): Promise<void> {
  const now = Date.now();
  for (const entry of await readdir(outputDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith(WORK_DIR_PREFIX)) continue;
    const path = join(outputDir, entry.name);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: now }));
    if (now - mtimeMs > STALE_WORK_DIR_MS) await rm(path, { recursive: true, force: true });
  }
}
