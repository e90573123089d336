import { waitFor } from "@acebatch/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ label: "sched-overlap" });
  await stack.startWorker();
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const schedule = (over: Record<string, unknown>) =>
  stack.api("POST", "/v1/schedules", {
    name: "t",
    every_seconds: 2,
    model: "acestep-ai/ace-step/text-to-audio",
    input: { tags: "ambient bed", duration: 5 },
    ...over,
  });
const rowsOf = async (id: string) => (await stack.api("GET", `/v1/schedules/${id}`)).body.last_runs.slice().reverse() as any[];
const jobsOf = async (id: string) => (await stack.api("GET", `/v1/jobs?schedule_id=${id}&limit=100`)).body.data as any[];

describe("overlap: skip with a slow provider", () => {
  it("records occurrences while a run is in flight as skipped_overlap and creates no job for them", async () => {
    // 0.5 audio seconds per wall second: a 5 s track takes ~10 s, i.e. ~5 occurrences.
    await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ speed: 0.5 }) });
    try {
      const { body: created } = await schedule({ overlap: "skip" });
      const rows = await waitFor(
        async () => {
          const r = await rowsOf(created.id);
          return r.filter((x) => x.outcome === "skipped_overlap").length >= 3 ? r : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, message: "3 skipped_overlap occurrences" },
      );
      await stack.api("PATCH", `/v1/schedules/${created.id}`, { enabled: false });
      const first = rows[0];
      expect(first).toMatchObject({ outcome: "enqueued", job_id: expect.any(String) });
      const skipped = rows.filter((r) => r.outcome === "skipped_overlap");
      for (const r of skipped) {
        expect(r.job_id).toBeNull();
        expect(r.message).toContain(first.job_id);
      }
      // Only the enqueued occurrences have jobs; the one in flight is still running.
      const jobs = await jobsOf(created.id);
      expect(jobs.map((j) => j.id).sort()).toEqual(rows.filter((r) => r.job_id).map((r) => r.job_id).sort());
      const running = await stack.api("GET", `/v1/jobs/${first.job_id}`);
      expect(["queued", "in_progress"]).toContain(running.body.status);
    } finally {
      await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ speed: 0 }) });
    }
  }, 60_000);
});

describe("cost caps", () => {
  it("records skipped_budget instead of spending when the run's estimate exceeds max_cost_per_run_usd", async () => {
    const submitsBefore = (await stack.simStats()).submits;
    // 5 s of base text-to-audio is estimated at $0.001.
    const { body: created, status } = await schedule({ max_cost_per_run_usd: 0.0005, overlap: "allow" });
    expect(status).toBe(201);
    const rows = await waitFor(
      async () => {
        const r = await rowsOf(created.id);
        return r.length >= 2 ? r : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250, message: "2 occurrences" },
    );
    const manual = await stack.api("POST", `/v1/schedules/${created.id}/run`);
    await stack.api("PATCH", `/v1/schedules/${created.id}`, { enabled: false });
    expect(manual.status).toBe(200);
    expect(manual.body).toMatchObject({ outcome: "skipped_budget", job_id: null, estimated_cost_usd: 0.001 });
    for (const r of rows) expect(r).toMatchObject({ outcome: "skipped_budget", job_id: null, estimated_cost_usd: 0.001 });
    expect(rows[0].message).toMatch(/exceeds max_cost_per_run_usd/);
    expect(await jobsOf(created.id)).toHaveLength(0);
    expect((await stack.simStats()).submits).toBe(submitsBefore);
    expect((await stack.api("GET", `/v1/schedules/${created.id}`)).body).toMatchObject({ runs_total: 0 });
  }, 30_000);

  it("stops enqueuing once the period's estimated spend would pass max_cost_per_period_usd", async () => {
    const { body: created } = await schedule({ max_cost_per_period_usd: 0.002, budget_period: "day", overlap: "allow" });
    const rows = await waitFor(
      async () => {
        const r = await rowsOf(created.id);
        return r.length >= 4 ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250, message: "4 occurrences" },
    );
    await stack.api("PATCH", `/v1/schedules/${created.id}`, { enabled: false });
    expect(rows.slice(0, 4).map((r) => r.outcome)).toEqual(["enqueued", "enqueued", "skipped_budget", "skipped_budget"]);
    const view = (await stack.api("GET", `/v1/schedules/${created.id}`)).body;
    expect(view.period).toMatchObject({ estimated_spent_usd: 0.002 });
    expect(await jobsOf(created.id)).toHaveLength(2);
  }, 30_000);
});
