/**
 * The Redis keys of webhooks, under the deployment's (hash-tagged) prefix like every other key, so
 * the Lua scripts that also read job indexes stay Redis Cluster safe. Per-job marks (the channel
 * claim, fanned out) are fields of the job's own record instead: see job-marks.ts.
 */
export function webhookKeys(prefix: string) {
  const base = `${prefix}:webhooks`;
  return {
    /** Hash: endpoint id → endpoint JSON. */
    endpoints: () => `${base}:endpoints`,
    delivery: (id: string) => `${base}:delivery:${id}`,
    /** Sorted set per delivery status, scored by the time the delivery entered it (ms). */
    deliveriesByStatus: (status: string) => `${base}:deliveries:${status}`,
    /** Sorted set: batches whose batch.completed has been fanned out. */
    fannedBatches: () => `${base}:fanned-batches`,
    /** Sorted set (lex): jobs that were not final at the last reconciliation pass. */
    watchJobs: () => `${base}:watch-jobs`,
    /** Sorted set: batches whose jobs had all finished while the batch was still enqueueing. */
    watchBatches: () => `${base}:watch-batches`,
    reconcileLock: () => `${base}:reconcile-lock`,
  };
}

export type WebhookKeys = ReturnType<typeof webhookKeys>;
