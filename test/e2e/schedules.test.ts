import { createLogger } from "@acebatch/config";
import { loadApiConfig, startApi } from "@acebatch/api";
import { freePort, waitFor, type SpawnedService } from "@acebatch/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, startStack, type Stack } from "../support/stack.ts";

/**
 * Schedules across processes: two APIs (the stack's and a second one on the same Redis prefix) and
 * two worker processes, every one of which runs a schedule worker.
 */
let stack: Stack;
let secondApi: Awaited<ReturnType<typeof startApi>> | null = null;
let secondUrl = "";
const workers: SpawnedService[] = [];

async function startSecondApi() {
  const port = await freePort();
  secondApi = await startApi(loadApiConfig({ ...stack.env, PORT: String(port), PUBLIC_BASE_URL: `http://127.0.0.1:${port}` }), {
    adminKey: ADMIN_KEY,
    logger: createLogger({ name: "api-2", level: "silent" }),
  });
  secondUrl = `http://127.0.0.1:${port}`;
}

async function api2(method: string, path: string, body?: unknown) {
  const res = await fetch(`${secondUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  stack = await startStack({ label: "schedules" });
  await startSecondApi();
  workers.push(await stack.startWorker(), await stack.startWorker());
}, 60_000);
afterAll(async () => {
  await secondApi?.close();
  await stack?.close();
});

const history = async (id: string) => (await stack.api("GET", `/v1/schedules/${id}`)).body.last_runs.slice().reverse() as any[];
const scheduledRows = (rows: any[]) => rows.filter((r) => r.trigger === "schedule");

describe("an every_seconds: 2 schedule with a 3-entry rotation, two APIs and two workers", () => {
  it("makes one job per occurrence, tags cycling in order, no duplicate occurrence times", async () => {
    const created = await api2("POST", "/v1/schedules", {
      name: "loops",
      every_seconds: 2,
      model: "acestep-ai/ace-step/text-to-audio",
      input: { duration: 5 },
      tags_rotation: ["lo-fi", "jazz", "ambient"],
      overlap: "allow",
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    // Both APIs see the same schedule and the same next runs.
    expect((await stack.api("GET", `/v1/schedules/${id}`)).body.next_runs).toEqual(created.body.next_runs);

    await waitFor(async () => (await history(id)).length >= 10, { timeoutMs: 30_000, intervalMs: 500, message: "10 occurrences" });
    expect((await stack.api("PATCH", `/v1/schedules/${id}`, { enabled: false })).body.next_runs).toEqual([]);
    const rows = scheduledRows(await history(id));

    const times = rows.map((r) => Date.parse(r.scheduled_at));
    expect(new Set(times).size).toBe(times.length);
    // On the 2 s grid that next_runs announced (a gap could only come from a worker stalled for a
    // whole interval, which BullMQ does not backfill).
    expect(Date.parse(rows[0].scheduled_at)).toBe(Date.parse(created.body.next_runs[0].utc));
    for (let i = 1; i < times.length; i++) {
      expect(times[i]! - times[i - 1]!).toBeGreaterThan(0);
      expect((times[i]! - times[0]!) % 2_000).toBe(0);
    }
    expect(rows.every((r) => ["enqueued", "caught_up"].includes(r.outcome) && r.job_id)).toBe(true);

    const jobs = (await stack.api("GET", `/v1/jobs?schedule_id=${id}&limit=100`)).body.data as any[];
    expect(jobs.map((j) => j.id).sort()).toEqual(rows.map((r) => r.job_id).sort());
    const byRun = rows.map((r) => jobs.find((j) => j.id === r.job_id)!.input.tags);
    expect(byRun).toEqual(rows.map((_, i) => ["lo-fi", "jazz", "ambient"][i % 3]));

    // One provider submission per job.
    await Promise.all(jobs.map((j) => stack.waitForJob(j.id)));
    expect((await stack.simStats()).submits).toBe(jobs.length);
  }, 60_000);
});

describe("restarting every process", () => {
  it("continues the schedule, with at most one catch-up run for the runs missed while down", async () => {
    const created = await stack.api("POST", "/v1/schedules", {
      name: "restart",
      every_seconds: 2,
      model: "acestep-ai/ace-step/text-to-audio",
      input: { tags: "bed", duration: 5 },
      overlap: "allow",
    });
    const id = created.body.id;
    await waitFor(async () => (await history(id)).length >= 3, { timeoutMs: 20_000, intervalMs: 250, message: "3 occurrences" });

    // Everything but the in-process test API goes down: both workers (SIGKILL) and the second API.
    for (const w of workers.splice(0)) await stack.stopWorker(w, "SIGKILL");
    await secondApi!.close();
    const downAt = Date.now();
    const before = (await history(id)).length;
    await new Promise((resolve) => setTimeout(resolve, 7_000)); // > 3 intervals
    const restartAt = Date.now();
    await startSecondApi();
    workers.push(await stack.startWorker(), await stack.startWorker());
    const upAt = Date.now();

    await waitFor(async () => scheduledRows(await history(id)).filter((r) => Date.parse(r.fired_at) > upAt + 4_000).length >= 2, {
      timeoutMs: 30_000,
      intervalMs: 250,
      message: "runs after the restart",
    });
    await stack.api("PATCH", `/v1/schedules/${id}`, { enabled: false });
    const rows = scheduledRows(await history(id));
    const times = rows.map((r) => Date.parse(r.scheduled_at));
    expect(new Set(times).size).toBe(times.length);

    const caughtUp = rows.filter((r) => r.outcome === "caught_up");
    expect(caughtUp).toHaveLength(1);
    expect(caughtUp[0].job_id).toBeTruthy();
    expect(caughtUp[0].message).toMatch(/catch-up/);
    // No backfill: of the ~3 occurrences due while down, only the one catch-up ran.
    const dueWhileDown = rows.filter((r) => Date.parse(r.scheduled_at) > downAt && Date.parse(r.scheduled_at) < restartAt);
    expect(dueWhileDown.length).toBeLessThanOrEqual(1);
    expect(rows.length).toBeGreaterThan(before);
    // Every run that was enqueued has its job.
    const jobs = (await stack.api("GET", `/v1/jobs?schedule_id=${id}&limit=100`)).body.data as any[];
    expect(jobs.map((j) => j.id).sort()).toEqual(rows.filter((r) => r.job_id).map((r) => r.job_id).sort());
  }, 90_000);
});
