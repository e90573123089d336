import type { ModelId } from "@acebatch/contracts";

export type ProviderCallKind = "submit" | "status" | "result" | "cancel";

/** One HTTP call to the provider, as the rate limiter and metrics hooks see it. */
export interface ProviderCall {
  kind: ProviderCallKind;
  /** Set for status, result and cancel. */
  requestId?: string;
  /** Set for submit. */
  model?: ModelId;
}
