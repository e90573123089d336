export { createRunComfyClient, DEFAULT_REQUEST_TIMEOUT_MS, type CallOptions, type RunComfyClient, type RunComfyClientOptions } from "./runcomfy-client.ts";
export type { CancelResult, ResultResult, StatusResult, SubmitResult } from "./responses.ts";
export type { ProviderCall, ProviderCallKind } from "./provider-call.ts";
export type { CallOutcome } from "./http-call.ts";
export { ProviderError, remoteRequestError, type ProviderErrorInit } from "./provider-error.ts";
export { classifyProviderFailure, type FailureClass, type FailureFacts } from "./classify-failure.ts";
export { parseRetryAfter } from "./retry-after.ts";
export { isTerminalRequestStatus, normalizeRequestStatus, PROVIDER_REQUEST_STATUSES, type ProviderRequestStatus } from "./request-status.ts";
export { findAudioUrl } from "./audio-url.ts";
export { parseCostUsd } from "./result-fields.ts";
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  downloadAudio,
  type DownloadAudioOptions,
  type DownloadedAudio,
} from "./download-audio.ts";
export { DownloadError, type DownloadErrorCode } from "./download-error.ts";
