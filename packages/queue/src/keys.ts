/**
 * Every Redis key acebatch writes, under one prefix. The default prefix is a hash tag
 * (`{acebatch}`) so all keys of one deployment share a Redis Cluster slot, which the Lua scripts
 * that touch several keys need.
 */
export function createKeys(prefix: string) {
  return {
    prefix,
    job: (id: string) => `${prefix}:job:${id}`,
    jobsAll: () => `${prefix}:jobs:all`,
    jobsByStatus: (status: string) => `${prefix}:jobs:status:${status}`,
    jobsByBatch: (batchId: string) => `${prefix}:jobs:batch:${batchId}`,
    jobsBySchedule: (scheduleId: string) => `${prefix}:jobs:schedule:${scheduleId}`,
    batchCounts: (batchId: string) => `${prefix}:batch:${batchId}:counts`,
    batch: (batchId: string) => `${prefix}:batch:${batchId}`,
    batchesAll: () => `${prefix}:batches:all`,
    batchReport: (batchId: string) => `${prefix}:batch:${batchId}:report`,
    /** Rows of a batch that got no job (rejected, duplicate), scored in row order. */
    batchRowsWithoutJob: (batchId: string) => `${prefix}:batch:${batchId}:no-job`,
    batchStaging: (token: string) => `${prefix}:batch-staging:${token}`,
    batchStagingWithoutJob: (token: string) => `${prefix}:batch-staging:${token}:no-job`,
    idempotency: (scope: string, keyHash: string) => `${prefix}:idem:${scope}:${keyHash}`,
    secret: (name: string) => `${prefix}:secret:${name}`,
    events: () => `${prefix}:events`,
    providerGate: (part: "state") => `${prefix}:provider:gate:${part}`,
    providerAuthFailure: () => `${prefix}:provider:auth-failure`,
    schedule: (id: string) => `${prefix}:schedule:${id}`,
    schedulesAll: () => `${prefix}:schedules:all`,
    scheduleHistory: (id: string) => `${prefix}:schedule:${id}:history`,
    scheduleOccurrence: (id: string, occurrence: string) => `${prefix}:schedule:${id}:occ:${occurrence}`,
    scheduleSpend: (id: string, periodKey: string) => `${prefix}:schedule:${id}:spend:${periodKey}`,
    scheduleReconcileLock: () => `${prefix}:schedules:reconcile-lock`,
    apiKey: (id: string) => `${prefix}:apikey:${id}`,
    apiKeyByHash: (sha256Hex: string) => `${prefix}:apikey-hash:${sha256Hex}`,
    apiKeysAll: () => `${prefix}:apikeys:all`,
    providerMetrics: () => `${prefix}:metrics:provider`,
    /** A client's request counter for the current rate window (`key:<id>` or `ip:<address>`). */
    rateLimit: (client: string) => `${prefix}:ratelimit:${client}`,
  };
}

export type Keys = ReturnType<typeof createKeys>;
