import { FFMPEG_BASE_ARGS, resolveTools, runTool, type FfmpegTools, type ToolOptions } from "./ffmpeg.ts";
import { FinishError } from "./finish-error.ts";

/** Loudness of a file as ffmpeg's `ebur128` filter (ITU-R BS.1770-4) measures it. */
export interface LoudnessMeasurement {
  /** Integrated loudness in LUFS (0.1 LU steps); -Infinity for silence (all below the -70 LUFS gate). */
  integratedLufs: number;
  /** Maximum true peak over all channels in dBTP (dBFS, 4× oversampled); -Infinity for silence. */
  truePeakDb: number;
}

function summaryNumber(stderr: string, section: RegExp, label: string): number {
  const tail = stderr.slice(stderr.search(/Summary:/));
  const match = new RegExp(`${section.source}[\\s\\S]*?${label}:\\s*(-?inf|-?[\\d.]+)`).exec(tail);
  if (match === null) throw new FinishError("ffmpeg_failed", `ebur128 printed no ${label} in its summary`);
  return match[1]!.endsWith("inf") ? -Infinity : Number(match[1]);
}

/**
 * Measure integrated loudness (LUFS) and true peak (dBTP) of an audio file with ffmpeg's `ebur128`
 * filter: an independent meter, not the `loudnorm` filter that normalised it.
 */
export async function measureLoudness(path: string, options: ToolOptions = {}): Promise<LoudnessMeasurement> {
  const tools = await resolveTools(options);
  const { stderr } = await runTool(
    tools.ffmpeg,
    // framelog=verbose keeps the per-100 ms lines out of stderr at the default log level.
    [...FFMPEG_BASE_ARGS, "-i", path, "-map", "0:a:0", "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
    { signal: options.signal },
  );
  const integrated = summaryNumber(stderr, /Integrated loudness:/, "I");
  return {
    // ebur128 prints the -70 LUFS absolute gate when no block passes it: that is silence.
    integratedLufs: integrated <= -70 ? -Infinity : integrated,
    truePeakDb: summaryNumber(stderr, /True peak:/, "Peak"),
  };
}

/** The JSON block `loudnorm` prints with print_format=json. */
interface LoudnormStats {
  input_i: string;
  input_tp: string;
  input_lra: string;
  input_thresh: string;
  target_offset: string;
  normalization_type?: string;
}

function parseLoudnormJson(stderr: string): LoudnormStats {
  const start = stderr.lastIndexOf("{");
  const end = stderr.lastIndexOf("}");
  try {
    const stats = JSON.parse(stderr.slice(start, end + 1)) as Partial<LoudnormStats>;
    for (const key of ["input_i", "input_tp", "input_lra", "input_thresh", "target_offset"] as const) {
      if (typeof stats[key] !== "string") throw new Error(`no ${key}`);
    }
    return stats as LoudnormStats;
  } catch (err) {
    throw new FinishError("ffmpeg_failed", `loudnorm printed no usable statistics: ${(err as Error).message}`, { cause: err });
  }
}

export interface NormalizeOptions {
  targetLufs: number;
  truePeakDb: number;
  sampleRate: number;
  channels: number;
  /** Frames of the input; the output has exactly as many. */
  frames: number;
  /**
   * The input is one period of a loop: it is normalised tiled three times and the middle copy
   * kept, so any time-varying gain or resampler edge sees the audio that really surrounds the seam.
   */
  periodic: boolean;
  signal?: AbortSignal | undefined;
}

/**
 * EBU R128 two-pass normalisation with ffmpeg's `loudnorm`: measure, then apply with the measured
 * values and linear=true (a plain gain). loudnorm falls back to its dynamic mode (a true-peak
 * limiter, working at 192 kHz) when the gain would push the true peak over the ceiling; the
 * output is resampled back and trimmed to the input's exact frame count either way.
 */
export async function normalizeLoudness(
  tools: FfmpegTools,
  inPath: string,
  outPath: string,
  options: NormalizeOptions,
): Promise<{ mode: "linear" | "dynamic"; inputLufs: number }> {
  const { targetLufs, truePeakDb, sampleRate, channels, frames, periodic, signal } = options;
  const target = `I=${targetLufs}:TP=${truePeakDb}`;
  const pass1 = await runTool(
    tools.ffmpeg,
    [...FFMPEG_BASE_ARGS, "-i", inPath, "-af", `loudnorm=${target}:print_format=json`, "-f", "null", "-"],
    { signal },
  );
  const measured = parseLoudnormJson(pass1.stderr);
  const inputLufs = Number(measured.input_i);
  if (!Number.isFinite(inputLufs) || inputLufs <= -70) {
    throw new FinishError("unfinishable_input", `the audio is silent (integrated loudness ${measured.input_i} LUFS): nothing to normalise`);
  }
  // The LRA target only matters as loudnorm's condition for linear mode: we normalise loudness,
  // we do not compress the track's dynamics, so it never blocks linear mode on its own.
  const lra = Math.min(50, Math.max(7, Math.ceil(Number(measured.input_lra) + 1)));
  // loudnorm reads measured_LRA=0 as "not measured" and refuses linear mode; steady material
  // (a short loop, a drone) really measures 0.00, so pass the smallest value it prints instead.
  const measuredLra = Number(measured.input_lra) > 0 ? measured.input_lra : "0.01";
  const loudnorm =
    `loudnorm=${target}:LRA=${lra}:measured_I=${measured.input_i}:measured_TP=${measured.input_tp}` +
    `:measured_LRA=${measuredLra}:measured_thresh=${measured.input_thresh}:offset=${measured.target_offset}` +
    `:linear=true:print_format=json`;
  const chain = periodic
    ? [`aloop=loop=2:size=${frames}`, loudnorm, `aresample=${sampleRate}`, `atrim=start_sample=${frames}:end_sample=${2 * frames}`, "asetpts=PTS-STARTPTS"]
    : [loudnorm, `aresample=${sampleRate}`];
  // Pad/trim to the exact length: the loop must stay exactly its bars, and formats are verified against it.
  chain.push(`apad=whole_len=${frames}`, `atrim=end_sample=${frames}`);
  const pass2 = await runTool(
    tools.ffmpeg,
    [...FFMPEG_BASE_ARGS, "-i", inPath, "-af", chain.join(","), "-ac", String(channels), "-c:a", "pcm_f32le", outPath],
    { signal },
  );
  const applied = parseLoudnormJson(pass2.stderr);
  return { mode: applied.normalization_type === "linear" ? "linear" : "dynamic", inputLufs };
}
