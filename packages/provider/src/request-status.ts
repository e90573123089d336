/** A provider request's state, normalised from the spellings RunComfy uses. */
export const PROVIDER_REQUEST_STATUSES = ["in_queue", "in_progress", "completed", "failed", "cancelled"] as const;
export type ProviderRequestStatus = (typeof PROVIDER_REQUEST_STATUSES)[number];

const ALIASES: Readonly<Record<string, ProviderRequestStatus>> = {
  in_queue: "in_queue",
  in_progress: "in_progress",
  completed: "completed",
  succeeded: "completed",
  failed: "failed",
  cancelled: "cancelled",
  canceled: "cancelled",
};

/**
 * Normalise a provider status case-insensitively (`IN_QUEUE`, `in-progress`, `succeeded` →
 * completed, `canceled` → cancelled); null for a status we do not know.
 */
export function normalizeRequestStatus(raw: string): ProviderRequestStatus | null {
  const key = raw.trim().toLowerCase().replace(/[\s-]+/g, "_");
  return Object.hasOwn(ALIASES, key) ? ALIASES[key]! : null;
}

/** Whether the provider will not change this request any more. */
export function isTerminalRequestStatus(status: ProviderRequestStatus): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}
