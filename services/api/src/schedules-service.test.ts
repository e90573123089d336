import { QUEUE_NAMES } from "@acebatch/queue";
import { Queue } from "bullmq";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { makeTestApp, TEST_ADMIN_KEY as ADMIN_KEY } from "./test-app.ts";
const T2A = "acestep-ai/ace-step/text-to-audio";

async function makeApp(now?: () => Date) {
  const base = await makeTestApp({ label: "api-sched", redisUrl: inject("redisUrl"), now });
  const schedulesQueue = new Queue(QUEUE_NAMES.schedules, { connection: base.queueRedis, prefix: base.prefix });
  const call = (method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: unknown) =>
    base.app.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return {
    ...base,
    schedulesQueue,
    call,
    async close() {
      await schedulesQueue.close();
      await base.close();
    },
  };
}

let t: Awaited<ReturnType<typeof makeApp>>;
afterEach(async () => {
  await t?.close();
});

const body = (over: Record<string, unknown> = {}) => ({
  name: "morning jingle",
  cron: "0 9 * * *",
  timezone: "America/New_York",
  model: T2A,
  input: { tags: "jingle", duration: 10 },
  ...over,
});

describe("/v1/schedules", () => {
  beforeEach(async () => {
    t = await makeApp();
  });

  it("creates a schedule (201) with defaults, next_runs in its timezone, the DST policy, and a BullMQ job scheduler", async () => {
    const res = await t.call("POST", "/v1/schedules", body({ tags_rotation: ["a", "b"], max_cost_per_run_usd: 0.05 }));
    expect(res.statusCode).toBe(201);
    const s = res.json();
    expect(s).toMatchObject({
      id: expect.stringMatching(/^sch_/),
      enabled: true,
      overlap: "skip",
      seed_strategy: "random",
      timezone: "America/New_York",
      input: { tags: "jingle", duration: 10, seed: -1 },
      max_cost_per_run_usd: 0.05,
      rotation_index: 0,
      runs_total: 0,
      last_runs: [],
      dst_policy: expect.stringContaining("first valid instant after the gap"),
    });
    expect(s.next_runs).toHaveLength(5);
    expect(s.next_runs[0].local).toMatch(/T09:00:00-0[45]:00$/);
    const scheduler = await t.schedulesQueue.getJobScheduler(s.id);
    expect(scheduler).toMatchObject({ pattern: "0 9 * * *", tz: "America/New_York", next: Date.parse(s.next_runs[0].utc) });
  });

  it("answers 400 naming each bad field", async () => {
    const res = await t.call("POST", "/v1/schedules", body({ cron: "0 25 * * *", every_seconds: undefined, timezone: "Mars/Base", input: { duration: 1 } }));
    expect(res.statusCode).toBe(400);
    const paths = res.json().error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(["cron", "input.duration", "input.tags", "timezone"]);
    expect((await t.call("POST", "/v1/schedules", body({ every_seconds: 5 }))).json().error.details).toEqual([
      { path: "cron", message: "give either cron or every_seconds, not both" },
    ]);
  });

  it("names the model's input fields beside another bad field, on POST and on PATCH", async () => {
    const created = await t.call("POST", "/v1/schedules", body({ webhook_url: "ftp://x", cron: "0 25 * * *", input: { duration: 1 } }));
    expect(created.statusCode).toBe(400);
    expect(created.json().error.details.map((d: { path: string }) => d.path).sort()).toEqual(["cron", "input.duration", "input.tags", "webhook_url"]);

    const s = (await t.call("POST", "/v1/schedules", body())).json();
    const patched = await t.call("PATCH", `/v1/schedules/${s.id}`, { webhook_url: "ftp://x", input: { duration: 1, colour: "red" } });
    expect(patched.statusCode).toBe(400);
    expect(patched.json().error.details.map((d: { path: string }) => d.path).sort()).toEqual(["input.colour", "input.duration", "webhook_url"]);
    // A field the body's own schema names is named once.
    const typed = await t.call("PATCH", `/v1/schedules/${s.id}`, { input: ["x"], enabled: "yes" });
    expect(typed.json().error.details.map((d: { path: string }) => d.path).sort()).toEqual(["enabled", "input"]);
    expect((await t.call("PATCH", `/v1/schedules/${s.id}`, { enabled: "yes" })).json().error.details.map((d: { path: string }) => d.path)).toEqual(["enabled"]);
    // Nothing was changed, and an unknown id with a bad body is still a 400.
    expect((await t.call("GET", `/v1/schedules/${s.id}`)).json()).toMatchObject({ input: { tags: "jingle", duration: 10 }, webhook_url: null });
    expect((await t.call("PATCH", "/v1/schedules/sch_01jd8x0000000000000000000z", { enabled: "yes" })).statusCode).toBe(400);
  });

  it("answers a cursor that no page gave out with 400 naming query.cursor", async () => {
    const res = await t.call("GET", "/v1/schedules?cursor=garbage");
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([{ path: "query.cursor", message: expect.stringMatching(/next_cursor value from an earlier page/) }]);
  });

  it("lists, gets, patches, runs and deletes", async () => {
    const a = (await t.call("POST", "/v1/schedules", body({ name: "a" }))).json();
    const b = (await t.call("POST", "/v1/schedules", body({ name: "b", cron: undefined, every_seconds: 3600 }))).json();
    const list = (await t.call("GET", "/v1/schedules?limit=1")).json();
    expect(list.data.map((s: { id: string }) => s.id)).toEqual([b.id]);
    expect((await t.call("GET", `/v1/schedules?cursor=${list.next_cursor}`)).json().data.map((s: { id: string }) => s.id)).toEqual([a.id]);

    // Pause: no next runs, no job scheduler. Resume: back.
    const paused = (await t.call("PATCH", `/v1/schedules/${a.id}`, { enabled: false })).json();
    expect(paused).toMatchObject({ enabled: false, next_runs: [] });
    expect(await t.schedulesQueue.getJobScheduler(a.id)).toBeUndefined();
    const moved = (await t.call("PATCH", `/v1/schedules/${a.id}`, { enabled: true, cron: "30 7 * * 1-5", input: { duration: 20 } })).json();
    expect(moved).toMatchObject({ enabled: true, cron: "30 7 * * 1-5", input: { tags: "jingle", duration: 20 } });
    expect(await t.schedulesQueue.getJobScheduler(a.id)).toMatchObject({ pattern: "30 7 * * 1-5" });
    expect((await t.call("PATCH", `/v1/schedules/${a.id}`, { timezone: "Nowhere" })).statusCode).toBe(400);

    // Fire now: a job that carries the schedule id, findable by schedule.
    const run = await t.call("POST", `/v1/schedules/${a.id}/run`);
    expect(run.statusCode).toBe(202);
    expect(run.json()).toMatchObject({ schedule_id: a.id, outcome: "enqueued", trigger: "manual", run_number: 0 });
    const jobs = (await t.call("GET", `/v1/jobs?schedule_id=${a.id}`)).json();
    expect(jobs.data).toHaveLength(1);
    expect(jobs.data[0]).toMatchObject({ id: run.json().job_id, schedule_id: a.id, input: { tags: "jingle", duration: 20 } });
    expect(await t.queues.generate.getJob(run.json().job_id)).toBeTruthy();
    // Overlap skip applies to manual runs too: the first is still queued.
    expect((await t.call("POST", `/v1/schedules/${a.id}/run`)).json()).toMatchObject({ outcome: "skipped_overlap", job_id: null });
    const got = (await t.call("GET", `/v1/schedules/${a.id}`)).json();
    expect(got).toMatchObject({ runs_total: 1, last_job_id: run.json().job_id });
    expect(got.last_runs.map((r: { outcome: string }) => r.outcome)).toEqual(["skipped_overlap", "enqueued"]);

    expect((await t.call("DELETE", `/v1/schedules/${a.id}`)).json()).toEqual({ id: a.id, deleted: true });
    expect(await t.schedulesQueue.getJobScheduler(a.id)).toBeUndefined();
    expect((await t.call("GET", `/v1/schedules/${a.id}`)).statusCode).toBe(404);
    expect((await t.call("POST", `/v1/schedules/${a.id}/run`)).statusCode).toBe(404);
    // The jobs it made are kept.
    expect((await t.call("GET", `/v1/jobs/${run.json().job_id}`)).statusCode).toBe(200);
  });

  it("needs an API key", async () => {
    const res = await t.app.inject({ method: "GET", url: "/v1/schedules" });
    expect(res.statusCode).toBe(401);
  });
});

describe("next_runs against a fixed clock", () => {
  it.each([
    ["30 2 * * *", "2027-03-13T12:00:00Z", "2027-03-14", ["2027-03-14T03:00:00-04:00"]],
    ["30 1 * * *", "2027-11-06T12:00:00Z", "2027-11-07", ["2027-11-07T01:30:00-04:00"]],
  ])("%s in America/New_York from %s: exactly one run on %s", async (cron, clock, day, expected) => {
    t = await makeApp(() => new Date(clock));
    const s = (await t.call("POST", "/v1/schedules", body({ cron }))).json();
    const onDay = s.next_runs.filter((r: { local: string }) => r.local.startsWith(day)).map((r: { local: string }) => r.local);
    expect(onDay).toEqual(expected);
  });
});
