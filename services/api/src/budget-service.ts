import { microUsdToUsd, type ModelId } from "@acebatch/contracts";
import { GLOBAL_SCOPE, type BudgetStatus, type Ledger, type SpendGroup } from "@acebatch/ledger";
import type { JobEstimator } from "@acebatch/pricing";
import { createKeys, type Queues } from "@acebatch/queue";
import type { Redis } from "ioredis";

const usd = (micro: number | null) => (micro === null ? null : microUsdToUsd(micro));

/** The budget as the API shows it: dollars at the edge, times as ISO strings. */
export function toBudgetView(status: BudgetStatus) {
  return {
    limit_usd: usd(status.limitMicroUsd),
    period: status.period,
    timezone: status.timezone,
    spent_usd: microUsdToUsd(status.spentMicroUsd),
    reserved_usd: microUsdToUsd(status.reservedMicroUsd),
    remaining_usd: usd(status.remainingMicroUsd),
    period_starts_at: status.periodStartsAt,
    resets_at: status.resetsAt,
  };
}

/** Budgets, spend reports and waking the jobs that wait for money. */
export function createBudgetService(deps: { redis: Redis; prefix: string; ledger: Ledger; queues: Queues; estimator: JobEstimator }) {
  const keys = createKeys(deps.prefix);

  /**
   * Jobs waiting for budget sit in BullMQ's delayed set; promote them so they look again now
   * (a raised limit should not wait for their next periodic check).
   */
  async function wakeWaitingJobs(): Promise<number> {
    let woken = 0;
    let cursor = "+";
    for (;;) {
      const ids = await deps.redis.zrange(keys.jobsByStatus("waiting_budget"), cursor, "-", "BYLEX", "REV", "LIMIT", 0, 500);
      if (ids.length === 0) return woken;
      const jobs = await Promise.all(ids.map((id) => deps.queues.generate.getJob(id)));
      await Promise.all(
        jobs.map(async (job) => {
          if (job && (await job.isDelayed())) {
            await job.promote().catch(() => undefined);
            woken++;
          }
        }),
      );
      cursor = `(${ids.at(-1)}`;
    }
  }

  return {
    async get() {
      return toBudgetView(await deps.ledger.getBudget(GLOBAL_SCOPE));
    },
    async set(settings: { limit_usd: number | null; period: "none" | "day" | "month"; timezone: string }) {
      const status = await deps.ledger.setBudget(GLOBAL_SCOPE, {
        // Floor, never round up: a limit must not grow by conversion.
        limitMicroUsd: settings.limit_usd === null ? null : Math.floor(settings.limit_usd * 1_000_000 + 1e-6),
        period: settings.period,
        timezone: settings.timezone,
      });
      await wakeWaitingJobs();
      return toBudgetView(status);
    },
    async spend(groupBy: SpendGroup) {
      const [rows, totals] = await Promise.all([deps.ledger.spend(groupBy), deps.ledger.totals()]);
      const view = (r: { jobs: number; seconds: number; costMicroUsd: number }) => ({ jobs: r.jobs, seconds: r.seconds, cost_usd: microUsdToUsd(r.costMicroUsd) });
      return { group_by: groupBy, data: rows.map((r) => ({ key: r.key, ...view(r) })), total: view(totals) };
    },
    /** Estimated cost of a job before it runs; null when its source is a remote URL (priced by the worker). */
    async estimateMicroUsd(model: ModelId, input: Record<string, unknown>): Promise<number | null> {
      return (await deps.estimator(model, input))?.costMicroUsd ?? null;
    },
    wakeWaitingJobs,
  };
}

export type BudgetService = ReturnType<typeof createBudgetService>;
