export { AudioProbeError } from "./audio-probe-error.ts";
export { AUDIO_CONTENT_TYPES, AUDIO_MAGIC_BYTES, detectAudioFormat, type AudioFormat } from "./detect-format.ts";
export { probeAudioFile, readWavInfo, type AudioProbe } from "./probe.ts";
export { checkWaveformColumns, createPeakAccumulator, MAX_WAVEFORM_COLUMNS, type WaveformPeaks } from "./waveform-peaks.ts";
export { wavPeaks } from "./wav-peaks.ts";
export { MAX_WAV_HEADER_BYTES, parseWavHeader, type WavHeaderParse, type WavInfo } from "./wav-header.ts";
export { MAX_BPM, MIN_BPM, parseBpmTag } from "./bpm-tag.ts";
export { DEFAULT_BPM } from "./synth-engine.ts";
export {
  createWavStream,
  DEFAULT_CHANNELS,
  DEFAULT_SAMPLE_RATE,
  wavByteLength,
  wavFrameCount,
  type WavStreamOptions,
} from "./wav-stream.ts";
export { createWavMeter, type WavMeasurement, type WavMeter } from "./wav-meter.ts";
