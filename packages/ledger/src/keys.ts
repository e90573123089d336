/** Every Redis key the ledger writes, under `<prefix>:ledger` (the prefix carries the hash tag). */
export function createLedgerKeys(prefix: string) {
  const root = `${prefix}:ledger`;
  return {
    root,
    budget: (scopeKey: string) => `${root}:budget:${scopeKey}`,
    job: (jobId: string) => `${root}:job:${jobId}`,
    spendIndex: (group: string) => `${root}:spend:${group}`,
    spendRow: (group: string, key: string) => `${root}:spend:${group}:${key}`,
    spendTotals: () => `${root}:spend:totals`,
  };
}

export type LedgerKeys = ReturnType<typeof createLedgerKeys>;
