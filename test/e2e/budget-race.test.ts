import { waitFor } from "@acebatch/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    label: "budget-race",
    workerEnv: { PROVIDER_RPS: "0", WORKER_CONCURRENCY: "25", BUDGET_RECHECK_SECONDS: "1" },
  });
});
afterAll(async () => {
  await stack?.close();
});

// A ten-second base-model job costs 10 s × 200 µ$/s = 2,000 µ$; the limit holds exactly 100 of them.
const LIMIT_USD = 0.2;

it("4 workers × 25 against a limit of exactly 100 jobs: 100 complete, 200 wait, the provider bills no more than the limit", async () => {
  expect((await stack.api("PUT", "/v1/budget", { limit_usd: LIMIT_USD })).status).toBe(200);
  await Promise.all([stack.startWorker(), stack.startWorker(), stack.startWorker(), stack.startWorker()]);
  await stack.submitMany(300, { duration: 10 });

  const settled = await waitFor(
    async () => {
      const counts = await stack.statusCounts();
      return counts.completed === 100 && counts.waiting_budget === 200 ? counts : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, message: "the budget did not settle at 100 completed / 200 waiting" },
  );
  expect(settled).toEqual({ completed: 100, waiting_budget: 200 });

  const stats = await stack.simStats();
  const budget = (await stack.api("GET", "/v1/budget")).body;
  expect(stats.billed_usd).toBeLessThanOrEqual(LIMIT_USD);
  expect(Math.round(stats.billed_usd * 1e6)).toBe(Math.round(budget.spent_usd * 1e6));
  expect(budget).toMatchObject({ limit_usd: LIMIT_USD, spent_usd: LIMIT_USD, reserved_usd: 0, remaining_usd: 0 });

  // Raising the limit lets the rest run, by themselves, with no job submitted twice.
  await stack.api("PUT", "/v1/budget", { limit_usd: 1 });
  const done = await stack.waitForAllFinal(300, 60_000);
  expect(done).toEqual({ completed: 300 });
  const after = await stack.simStats();
  expect(after.submits).toBe(300);
  expect(Math.round(after.billed_usd * 1e6)).toBe(Math.round((await stack.api("GET", "/v1/budget")).body.spent_usd * 1e6));
}, 150_000);
