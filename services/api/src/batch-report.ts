import type { RowError } from "@acebatch/batch-input";
import type { RowRef } from "@acebatch/batch-input";

/** A job not created because an identical fixed-seed job comes earlier in the upload. */
export interface DuplicateRow {
  row: number;
  variation: number;
  duplicate_of: RowRef;
}

/** How many row errors and duplicates a response (and the stored report) lists; the counts stay exact. */
export const MAX_LISTED = 1_000;

/** What reading an upload found: counts, the first errors and duplicates, and the priced total. */
export function createUploadReport() {
  const errors: RowError[] = [];
  const duplicateRows: DuplicateRow[] = [];
  let rejected = 0;
  let duplicates = 0;
  let accepted = 0;
  let costMicroUsd = 0;
  let seconds = 0;
  let unpriced = 0;
  let firstUnmeasured: { row: number; reason: string } | null = null;
  let lastPricingErrorRow = 0;

  const list = (rowErrors: readonly RowError[]) => {
    for (const e of rowErrors) if (errors.length < MAX_LISTED) errors.push(e);
  };

  return {
    /** A row that failed validation (counts once, whatever its variations). */
    invalid(rowErrors: readonly RowError[]) {
      rejected++;
      list(rowErrors);
    },
    /** A job whose price could not be learned (its source is unusable): listed once per row. */
    unpriceable(error: RowError) {
      rejected++;
      if (error.row !== lastPricingErrorRow) list([error]);
      lastPricingErrorRow = error.row;
    },
    duplicate(row: DuplicateRow) {
      duplicates++;
      if (duplicateRows.length < MAX_LISTED) duplicateRows.push(row);
    },
    /** A job to enqueue; `unmeasured` says why its remote source could not be measured (first one kept). */
    accept(cost: number | null, jobSeconds: number | null, unmeasured?: { row: number; reason: string }) {
      accepted++;
      if (unmeasured && !firstUnmeasured) firstUnmeasured = unmeasured;
      if (cost === null) unpriced++;
      else costMicroUsd += cost;
      if (jobSeconds !== null) seconds += jobSeconds;
    },
    get rejected() {
      return rejected;
    },
    get accepted() {
      return accepted;
    },
    summary() {
      // Pricing errors arrive a chunk after parse errors of later rows: list them in row order.
      const sorted = [...errors].sort((a, b) => a.row - b.row);
      return {
        total: accepted + rejected + duplicates,
        accepted,
        rejected,
        duplicates,
        errors: sorted,
        errors_truncated: rejected > 0 && errors.length >= MAX_LISTED,
        duplicate_rows: duplicateRows,
        estimatedCostMicroUsd: costMicroUsd,
        estimatedSeconds: Math.round(seconds),
        unpriced,
        firstUnmeasured,
      };
    },
  };
}

export type UploadReport = ReturnType<ReturnType<typeof createUploadReport>["summary"]>;
