import { parseBpmTag } from "./bpm-tag.ts";

/**
 * A tiny deterministic groove synthesizer: a soft chord pad (key and progression picked by the
 * seed), a bass note, a kick on every beat and a click on the off-beats at the tempo of the tags.
 * Everything expensive (sine table, kick and click samples, sidechain curve) is computed once per
 * stream; the per-frame loop is table look-ups and multiply-adds so it renders far faster than
 * real time. State carries across `render` calls, so output does not depend on the chunk size.
 */

export const DEFAULT_BPM = 100;

const TABLE_SIZE = 4096;
const SINE = new Float64Array(TABLE_SIZE + 1);
for (let i = 0; i <= TABLE_SIZE; i++) SINE[i] = Math.sin((2 * Math.PI * i) / TABLE_SIZE);

// Semitone offsets of the triads in each progression (root of each chord, then major/minor quality).
const PROGRESSIONS: readonly (readonly [number, "maj" | "min"])[][] = [
  [[0, "maj"], [7, "maj"], [9, "min"], [5, "maj"]], // I V vi IV
  [[0, "min"], [8, "maj"], [3, "maj"], [10, "maj"]], // i VI III VII
  [[0, "maj"], [5, "maj"], [7, "maj"], [5, "maj"]], // I IV V IV
  [[0, "min"], [5, "min"], [10, "maj"], [3, "maj"]], // i iv VII III
];

const PAD_VOICES = 4; // bass, root, third, fifth
const PAN_LEFT = [0.5, 0.8, 0.35, 0.6];
const PAN_RIGHT = [0.5, 0.35, 0.8, 0.6];

/** FNV-1a over a string: a stable 32-bit hash. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small, fast, seedable PRNG returning numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface SynthOptions {
  sampleRate: number;
  channels: number;
  seed: number;
  tags: string;
  /** Total frames of the track, for the fade-out at its end. */
  totalFrames: number;
}

export interface Synth {
  readonly bpm: number;
  /** Render the next `frames` frames as interleaved 16-bit samples into `out` (length frames × channels). */
  render(out: Int16Array, frames: number): void;
}

function midiToHz(note: number): number {
  return 440 * 2 ** ((note - 69) / 12);
}

function makeKick(sampleRate: number): Float64Array {
  const kick = new Float64Array(Math.round(sampleRate * 0.22));
  let phase = 0;
  for (let i = 0; i < kick.length; i++) {
    const t = i / sampleRate;
    const freq = 45 + 110 * Math.exp(-t * 30);
    phase += (2 * Math.PI * freq) / sampleRate;
    kick[i] = Math.sin(phase) * Math.exp(-t * 14);
  }
  return kick;
}

function makeClick(sampleRate: number, random: () => number): Float64Array {
  const click = new Float64Array(Math.round(sampleRate * 0.035));
  let previous = 0;
  for (let i = 0; i < click.length; i++) {
    const noise = random() * 2 - 1;
    // A first difference of white noise tilts it toward the highs, like a hi-hat.
    click[i] = (noise - previous) * 0.5 * Math.exp((-i / sampleRate) * 120);
    previous = noise;
  }
  return click;
}

/** Build a synthesizer for one track; the same options always give the same samples. */
export function createSynth(options: SynthOptions): Synth {
  const { sampleRate, channels, totalFrames } = options;
  const random = mulberry32(hashString(`${options.seed}|${options.tags}`));
  const bpm = parseBpmTag(options.tags) ?? DEFAULT_BPM;
  const framesPerBeat = (sampleRate * 60) / bpm;

  const keyRoot = 45 + Math.floor(random() * 12); // A2 … G#3
  const progression = PROGRESSIONS[Math.floor(random() * PROGRESSIONS.length)]!;
  const offbeatClicks = random() < 0.75;
  const kick = makeKick(sampleRate);
  const click = makeClick(sampleRate, random);
  const duck = new Float64Array(Math.ceil(framesPerBeat) + 1);
  for (let i = 0; i < duck.length; i++) duck[i] = 1 - 0.45 * Math.exp((-i / sampleRate) * 9);

  const phases = new Float64Array(PAD_VOICES);
  for (let v = 0; v < PAD_VOICES; v++) phases[v] = random() * TABLE_SIZE;
  const increments = new Float64Array(PAD_VOICES);
  const gains = [0.16, 0.07, 0.06, 0.06];
  const setChord = (bar: number): void => {
    const [offset, quality] = progression[bar % progression.length]!;
    const root = keyRoot + offset;
    const notes = [root - 12, root + 12, root + 12 + (quality === "maj" ? 4 : 3), root + 19];
    for (let v = 0; v < PAD_VOICES; v++) increments[v] = (midiToHz(notes[v]!) * TABLE_SIZE) / sampleRate;
  };

  const fadeIn = Math.max(1, Math.round(sampleRate * 0.005));
  const fadeOut = Math.max(1, Math.round(sampleRate * 0.02));
  let frame = 0;
  let beat = 0;
  let posInBeat = 0;
  let nextBeatAt = framesPerBeat;
  setChord(0);

  const render = (out: Int16Array, frames: number): void => {
    let o = 0;
    for (let i = 0; i < frames; i++, frame++, posInBeat++) {
      if (frame >= nextBeatAt) {
        beat++;
        posInBeat = 0;
        nextBeatAt = (beat + 1) * framesPerBeat;
        if (beat % 4 === 0) setChord(beat / 4);
      }
      let left = 0;
      let right = 0;
      for (let v = 0; v < PAD_VOICES; v++) {
        let p = phases[v]! + increments[v]!;
        if (p >= TABLE_SIZE) p -= TABLE_SIZE;
        phases[v] = p;
        const s = SINE[p | 0]! * gains[v]!;
        left += s * PAN_LEFT[v]!;
        right += s * PAN_RIGHT[v]!;
      }
      const pad = duck[posInBeat < duck.length ? posInBeat : duck.length - 1]!;
      left *= pad;
      right *= pad;
      if (posInBeat < kick.length) {
        const k = kick[posInBeat]! * 0.5;
        left += k;
        right += k;
      }
      if (offbeatClicks) {
        const c = posInBeat - (framesPerBeat >> 1);
        if (c >= 0 && c < click.length) {
          const h = click[c]! * 0.25;
          left += h * 0.7;
          right += h;
        }
      }
      let gain = 1;
      if (frame < fadeIn) gain = frame / fadeIn;
      const remaining = totalFrames - frame;
      if (remaining < fadeOut) gain *= remaining / fadeOut;
      left *= gain * 32_767;
      right *= gain * 32_767;
      left = left > 32_767 ? 32_767 : left < -32_768 ? -32_768 : left;
      right = right > 32_767 ? 32_767 : right < -32_768 ? -32_768 : right;
      if (channels === 2) {
        out[o++] = left;
        out[o++] = right;
      } else if (channels === 1) {
        out[o++] = (left + right) / 2;
      } else {
        for (let c = 0; c < channels; c++) out[o++] = c % 2 === 0 ? left : right;
      }
    }
  };
  return { bpm, render };
}
