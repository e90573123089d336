import { MAX_LOOP_BARS } from "@acebatch/contracts";

import { FinishError } from "./finish-error.ts";

/** Where a seamless loop is cut from a track. All positions in frames at the track's sample rate. */
export interface LoopPlan {
  bars: number;
  bpm: number;
  sampleRate: number;
  /** Exactly round(bars × 4 × 60 / bpm × sampleRate). */
  loopFrames: number;
  /** loopFrames / sampleRate: the exact length of the finished loop. */
  seconds: number;
  /** Length of the tail-into-head crossfade. */
  crossfadeFrames: number;
  /** The loop may start anywhere in [0, startSearchFrames] (chosen at a near-zero crossing). */
  startSearchFrames: number;
}

export const CROSSFADE_SECONDS = 0.02;
export const START_SEARCH_SECONDS = 0.01;
const BEATS_PER_BAR = 4;

/**
 * Plan a loop of whole 4/4 bars at `bpm`: `bars` if given, else the largest number (≤ 64) that
 * fits with the crossfade material after it. Throws FinishError("unfinishable_input") if none fits.
 */
export function planLoop(options: { totalFrames: number; sampleRate: number; bpm: number; bars?: number | undefined }): LoopPlan {
  const { totalFrames, sampleRate, bpm } = options;
  const crossfadeFrames = Math.max(1, Math.round(CROSSFADE_SECONDS * sampleRate));
  const framesPerBar = (BEATS_PER_BAR * 60 * sampleRate) / bpm;
  const available = totalFrames - crossfadeFrames;
  const fits = Math.min(MAX_LOOP_BARS, Math.floor(available / framesPerBar));
  const bars = options.bars ?? fits;
  const seconds = (n: number) => `${((n * framesPerBar) / sampleRate + CROSSFADE_SECONDS).toFixed(3)} s`;
  if (bars < 1 || bars > fits) {
    throw new FinishError(
      "unfinishable_input",
      `the track is ${(totalFrames / sampleRate).toFixed(3)} s: a loop of ${Math.max(bars, 1)} bar(s) at ${bpm} BPM needs ` +
        `${seconds(Math.max(bars, 1))} (with the crossfade)${fits >= 1 ? `; at most ${fits} bar(s) fit` : ""}`,
    );
  }
  const loopFrames = Math.round(bars * framesPerBar);
  return {
    bars,
    bpm,
    sampleRate,
    loopFrames,
    seconds: loopFrames / sampleRate,
    crossfadeFrames,
    startSearchFrames: Math.min(Math.round(START_SEARCH_SECONDS * sampleRate), totalFrames - loopFrames - crossfadeFrames),
  };
}

/**
 * The loop start in [0, startSearchFrames] where the file's last and first samples (x[s+L-1] and
 * x[s+L], the seam) sit closest to zero on every channel, so even a player that is not gapless or
 * an encoder's edge handling meets a near-silent edge. `pcm` is interleaved and starts at frame 0.
 */
export function chooseLoopStart(pcm: Float32Array, channels: number, plan: LoopPlan): number {
  let best = 0;
  let bestCost = Infinity;
  for (let s = 0; s <= plan.startSearchFrames; s++) {
    let cost = 0;
    const end = (s + plan.loopFrames) * channels;
    for (let c = 0; c < channels; c++) cost += Math.abs(pcm[end - channels + c]!) + Math.abs(pcm[end + c]!);
    if (cost < bestCost) {
      bestCost = cost;
      best = s;
    }
  }
  return best;
}

/**
 * Cut `plan.loopFrames` frames starting at `start` and crossfade the material just after the loop
 * end into the loop's head, so the sample after the last one is (nearly) the sample that really
 * followed it: playing the result on repeat has no click and no gap. The fade is equal-power
 * (sin/cos), compensated for the correlation of the two segments so that correlated material (the
 * same groove one loop apart) does not bulge by 3 dB. Works in place: returns a view into `pcm`.
 */
export function renderLoop(pcm: Float32Array, channels: number, plan: LoopPlan, start: number): Float32Array {
  const { loopFrames, crossfadeFrames: x } = plan;
  if (pcm.length < (start + loopFrames + x) * channels) throw new RangeError("renderLoop: not enough source frames");
  // In place: the head being rewritten never overlaps the tail read after the loop end.
  const out = pcm.subarray(start * channels, (start + loopFrames) * channels);
  const tail = (start + loopFrames) * channels;
  let dot = 0;
  let headEnergy = 0;
  let tailEnergy = 0;
  for (let i = 0; i < x * channels; i++) {
    const h = out[i]!;
    const t = pcm[tail + i]!;
    dot += h * t;
    headEnergy += h * h;
    tailEnergy += t * t;
  }
  const norm = Math.sqrt(headEnergy * tailEnergy);
  const r = norm > 0 ? Math.min(1, Math.max(0, dot / norm)) : 0;
  for (let f = 0; f < x; f++) {
    const theta = (Math.PI / 2) * ((f + 0.5) / x);
    const a = Math.sin(theta);
    const b = Math.cos(theta);
    const gain = 1 / Math.sqrt(1 + 2 * r * a * b);
    for (let c = 0; c < channels; c++) {
      const i = f * channels + c;
      out[i] = (a * out[i]! + b * pcm[tail + i]!) * gain;
    }
  }
  return out;
}
