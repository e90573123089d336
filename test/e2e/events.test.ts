import { waitFor } from "@acebatch/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ADMIN_KEY, startStack, type Stack } from "../support/stack.ts";

let stack: Stack;
let redis: Redis;
beforeAll(async () => {
  // No worker yet: the first test watches a job from queued on.
  stack = await startStack({ label: "events" });
  redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await redis?.quit();
  await stack?.close();
});

interface SseEvent {
  event: string;
  data: any;
}

/** Open an SSE stream and collect its events until the server closes it (or `stop()`). */
async function openStream(path: string) {
  const controller = new AbortController();
  const res = await fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, accept: "text/event-stream" }, signal: controller.signal });
  const events: SseEvent[] = [];
  let ended = false;
  const done = (async () => {
    if (!res.body) return;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted by stop()
    } finally {
      ended = true;
    }
  })();
  return {
    res,
    events,
    get ended() {
      return ended;
    },
    done,
    stop: () => controller.abort(),
  };
}

describe("live events (SSE)", () => {
  it("streams a job from queued through in_progress to completed, then closes", async () => {
    const { body: job } = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "sse, lo-fi", duration: 5 } });
    const stream = await openStream(`/v1/jobs/${job.id}/events`);
    expect(stream.res.status).toBe(200);
    expect(stream.res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    await waitFor(() => stream.events.length > 0, { message: "the snapshot" });
    expect(stream.events[0]).toMatchObject({ event: "snapshot", data: { job: { id: job.id, status: "queued" } } });

    await stack.startWorker();
    await waitFor(() => stream.ended, { timeoutMs: 30_000, message: "the stream to end" });
    const statuses = stream.events.filter((e) => e.event === "status").map((e) => `${e.data.from}->${e.data.to}`);
    expect(statuses).toEqual(["queued->in_progress", "in_progress->completed"]);
    const last = stream.events.at(-1)!;
    expect(last).toMatchObject({ event: "done", data: { job: { id: job.id, status: "completed", output: { url: expect.stringContaining(`/v1/jobs/${job.id}/audio`) } } } });
    expect(last.data.job.cost_usd).toBeGreaterThan(0);
  });

  it("answers a finished job with its snapshot and done at once, and unknown ids with 404", async () => {
    const { body: job } = await stack.api("POST", "/v1/jobs", { model: "acestep-ai/ace-step/text-to-audio", input: { tags: "sse, done", duration: 5 } });
    await stack.waitForJob(job.id);
    const stream = await openStream(`/v1/jobs/${job.id}/events`);
    await stream.done;
    expect(stream.events.map((e) => e.event)).toEqual(["snapshot", "done"]);

    const missing = await stack.api("GET", "/v1/jobs/job_00000000000000000000000000/events");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    expect((await fetch(`${stack.baseUrl}/v1/jobs/${job.id}/events`)).status).toBe(401);
  });

  it("streams a batch's counts and spend until every job has finished", async () => {
    const csv = "tags,duration\nsse batch a,5\nsse batch b,5\nsse batch c,5\n";
    const res = await fetch(`${stack.baseUrl}/v1/batches?model=acestep-ai/ace-step/text-to-audio`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "text/csv" },
      body: csv,
    });
    expect(res.status).toBe(201);
    const batch: any = await res.json();
    const stream = await openStream(`/v1/batches/${batch.id}/events`);
    expect(stream.res.status).toBe(200);
    await waitFor(() => stream.ended, { timeoutMs: 30_000, message: "the batch stream to end" });
    expect(stream.events[0]).toMatchObject({ event: "snapshot", data: { batch: { id: batch.id } } });
    const last = stream.events.at(-1)!;
    expect(last).toMatchObject({ event: "done", data: { batch: { id: batch.id, status: "completed", counts: { completed: 3, queued: 0, in_progress: 0 } } } });
    expect(last.data.batch.spent_usd).toBeGreaterThan(0);
  });

  it("feeds every open stream of the API from one Redis subscription, released on disconnect", async () => {
    const channel = `${stack.env.ACEBATCH_PREFIX}:events`;
    const subscribers = async () => Number(((await redis.pubsub("NUMSUB", channel)) as [string, number])[1]);
    const before = await subscribers();
    const jobs = await stack.submitMany(3, { duration: 30 });
    const streams = await Promise.all(jobs.map((id) => openStream(`/v1/jobs/${id}/events`)));
    await waitFor(() => streams.every((s) => s.events.length > 0), { message: "three snapshots" });
    expect(await subscribers()).toBe(before);
    for (const s of streams) s.stop();
    await Promise.all(streams.map((s) => s.done));
    expect(await subscribers()).toBe(before);
  });
});
