export { checkFfmpeg, INSTALL_HINT, type ToolOptions } from "./ffmpeg.ts";
export { FinishError, type FinishErrorCode } from "./finish-error.ts";
export { finishAudio, type FinishAudioOptions, type FinishResult } from "./finish-audio.ts";
export type { Rendition } from "./encode.ts";
export { measureLoudness, type LoudnessMeasurement } from "./loudness.ts";
export { waveformPeaks } from "./waveform.ts";
