/** Min/max per pixel column of a track, for the dashboard's waveform view. */
export interface WaveformPeaks {
  columns: number;
  sampleRate: number;
  /** Decoded frames / sample rate. */
  durationSeconds: number;
  /** One [min, max] pair per column over all channels, in -1…1, rounded to 3 decimals. */
  peaks: [number, number][];
}

export const MAX_WAVEFORM_COLUMNS = 10_000;

export function checkWaveformColumns(columns: number): void {
  if (!Number.isInteger(columns) || columns < 1 || columns > MAX_WAVEFORM_COLUMNS) {
    throw new RangeError(`columns must be a whole number 1–${MAX_WAVEFORM_COLUMNS}, got ${columns}`);
  }
}

const round3 = (v: number): number => {
  const r = Math.round(Math.max(-1, Math.min(1, v)) * 1000) / 1000;
  return r === 0 ? 0 : r; // no -0 in the JSON
};

/**
 * Folds interleaved samples (-1…1) into `columns` min/max pairs laid out by the exact frame count,
 * in constant memory whatever the track's length. One implementation for every decoder (ffmpeg's
 * PCM pipe, the in-process WAV reader), so their peaks agree.
 */
export function createPeakAccumulator(columns: number, totalFrames: number, channels: number) {
  checkWaveformColumns(columns);
  const frames = Math.max(1, totalFrames);
  const mins = new Float64Array(columns).fill(Infinity);
  const maxs = new Float64Array(columns).fill(-Infinity);
  // Frame f belongs to column min(columns - 1, floor(f × columns / frames)); column c starts at
  // frame ceil(c × frames / columns). Samples are folded a column-run at a time, with no division
  // per sample. Samples past the expected length fold into the last column.
  const firstSampleOf = (column: number) => Math.ceil((column * frames) / columns) * channels;
  let column = 0;
  let nextColumnAt = columns > 1 ? firstSampleOf(1) : Infinity;
  let sampleIndex = 0;
  return {
    /** Fold `count` interleaved samples, each multiplied by `scale` (e.g. 1/32768 for 16-bit integers). */
    add(samples: ArrayLike<number>, count = samples.length, scale = 1): void {
      let i = 0;
      while (i < count) {
        while (sampleIndex >= nextColumnAt) {
          column++;
          nextColumnAt = column < columns - 1 ? firstSampleOf(column + 1) : Infinity;
        }
        const end = Math.min(count, i + (nextColumnAt - sampleIndex));
        let lo = mins[column]!;
        let hi = maxs[column]!;
        for (let k = i; k < end; k++) {
          const v = samples[k]! * scale;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        mins[column] = lo;
        maxs[column] = hi;
        sampleIndex += end - i;
        i = end;
      }
    },
    result(sampleRate: number): WaveformPeaks {
      const peaks: [number, number][] = [];
      for (let c = 0; c < columns; c++) {
        // Only a file whose decoded length disagrees with its own header leaves a column empty.
        peaks.push(mins[c] === Infinity ? [0, 0] : [round3(mins[c]!), round3(maxs[c]!)]);
      }
      const decodedFrames = Math.floor(sampleIndex / channels);
      return { columns, sampleRate, durationSeconds: decodedFrames / sampleRate, peaks };
    },
  };
}
