import type { FfmpegTools } from "./ffmpeg.ts";
import { streamDecodedPcm } from "./pcm-io.ts";

/**
 * A simple tempo estimate for loop cutting: an onset envelope (rise of log energy per 64-sample
 * hop of a mono 11025 Hz downmix, ~172 envelope frames a second), its autocorrelation, a coarse
 * pick among 60–180 BPM weighted toward 120 BPM, then a refinement that lines up the autocorrelation
 * at many whole multiples of the beat period, which pins the tempo far below one envelope frame.
 *
 * Limits: it assumes a steady tempo with audible beats (drums, plucks, chord changes); rubato,
 * ambient pads and swing can give no answer or a wrong one; half/double-time confusions are
 * resolved toward 120 BPM. A result within 0.3 BPM of a whole number is snapped to it, because
 * generated tracks are asked for at whole tempos. Callers that know the tempo should pass it.
 */

export const ENVELOPE_SAMPLE_RATE = 11_025;
const HOP = 64;
const MIN_BPM = 60;
const MAX_BPM = 180;
/** Below this normalised autocorrelation the envelope has no steady beat worth trusting. */
const MIN_CONFIDENCE = 0.1;
const SNAP_BPM = 0.3;

/** Decode `path` to a low-rate mono downmix with ffmpeg and estimate its tempo (BPM), or null. */
export async function detectTempo(tools: FfmpegTools, path: string, signal?: AbortSignal): Promise<number | null> {
  const envelope: number[] = [];
  let energy = 0;
  let inHop = 0;
  let previous = 0;
  await streamDecodedPcm(tools, path, {
    channels: 1,
    sampleRate: ENVELOPE_SAMPLE_RATE,
    signal,
    onSamples: (samples) => {
      for (let i = 0; i < samples.length; i++) {
        const s = samples[i]!;
        energy += s * s;
        if (++inHop === HOP) {
          const level = Math.log(1e-9 + energy / HOP);
          envelope.push(envelope.length === 0 ? 0 : Math.max(0, level - previous));
          previous = level;
          energy = 0;
          inHop = 0;
        }
      }
    },
  });
  return estimateTempo(Float64Array.from(envelope), ENVELOPE_SAMPLE_RATE / HOP);
}

/** Tempo in BPM of an onset envelope sampled at `frameRate` Hz, or null if it has no steady beat. */
export function estimateTempo(envelope: Float64Array, frameRate: number): number | null {
  const n = envelope.length;
  const minLag = Math.floor((60 * frameRate) / MAX_BPM);
  const maxLag = Math.ceil((60 * frameRate) / MIN_BPM);
  if (n < maxLag * 3) return null;
  const ac = autocorrelation(envelope);
  if (ac[0]! <= 0) return null;
  const at = (lag: number): number => {
    const i = Math.floor(lag);
    if (i + 1 >= ac.length) return 0;
    return ac[i]! + (ac[i + 1]! - ac[i]!) * (lag - i);
  };

  // Coarse: the best beat lag, helped by its double (a bar of 2 beats) and weighted toward 120 BPM.
  let bestLag = 0;
  let bestScore = -Infinity;
  for (let lag = minLag; lag <= maxLag; lag++) {
    const bpm = (60 * frameRate) / lag;
    const prior = Math.exp(-0.5 * Math.log2(bpm / 120) ** 2);
    const score = (at(lag) + 0.5 * at(2 * lag)) * prior;
    if (score > bestScore) {
      bestScore = score;
      bestLag = lag;
    }
  }
  if (at(bestLag) / ac[0]! < MIN_CONFIDENCE) return null;

  // Fine: the period whose whole multiples (up to half the track) best line up with the peaks.
  let period = bestLag;
  let periodScore = -Infinity;
  const longest = n / 2;
  for (let p = bestLag - 1.5; p <= bestLag + 1.5; p += 0.002) {
    let score = 0;
    for (let k = 1; k * p < longest; k++) score += at(k * p);
    if (score > periodScore) {
      periodScore = score;
      period = p;
    }
  }
  const bpm = (60 * frameRate) / period;
  const whole = Math.round(bpm);
  return Math.abs(bpm - whole) <= SNAP_BPM ? whole : Math.round(bpm * 100) / 100;
}

/** Unbiased autocorrelation of the mean-removed signal (lags 0…n-1), via FFT. */
function autocorrelation(signal: Float64Array): Float64Array {
  const n = signal.length;
  let mean = 0;
  for (const v of signal) mean += v / n;
  let size = 1;
  while (size < 2 * n) size *= 2;
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < n; i++) re[i] = signal[i]! - mean;
  fft(re, im, false);
  for (let i = 0; i < size; i++) {
    re[i] = re[i]! * re[i]! + im[i]! * im[i]!;
    im[i] = 0;
  }
  fft(re, im, true);
  const out = new Float64Array(n);
  // Divide by the overlap so long lags are not penalised for having fewer terms.
  for (let lag = 0; lag < n; lag++) out[lag] = re[lag]! / size / (n - lag);
  return out;
}

/** In-place iterative radix-2 FFT (size a power of two). */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = ((inverse ? 2 : -2) * Math.PI) / len;
    const wRe = Math.cos(angle);
    const wIm = Math.sin(angle);
    for (let start = 0; start < n; start += len) {
      let uRe = 1;
      let uIm = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = start + k;
        const b = a + len / 2;
        const tRe = re[b]! * uRe - im[b]! * uIm;
        const tIm = re[b]! * uIm + im[b]! * uRe;
        re[b] = re[a]! - tRe;
        im[b] = im[a]! - tIm;
        re[a] = re[a]! + tRe;
        im[a] = im[a]! + tIm;
        const next = uRe * wRe - uIm * wIm;
        uIm = uRe * wIm + uIm * wRe;
        uRe = next;
      }
    }
  }
}
