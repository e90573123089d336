// Batch status: `GET /v1/batches/{id}` latency for a 100-row and a 100,000-row batch, both in
// progress, over the same HTTP path with the requests interleaved (both see the same machine
// load; 2,000 each so p99 is not one noisy sample). The view comes from counters and the ledger,
// never from the batch's jobs, so the goal is the same latency whatever the size: ratios ≤ 1.5.
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { batchJobId, closeRedis, createJobStore } from "@acebatch/queue";
import { startTestRedis } from "@acebatch/testing";
import { BENCH_API_KEY as KEY, startBenchApi } from "./bench-api.ts";
import { report } from "./bench-result.ts";

const MODEL = "acestep-ai/ace-step/text-to-audio";
const REQUESTS = 2_000;

const redis = await startTestRedis();
const { app, apiUrl, producer, queues, prefix, dir } = await startBenchApi(redis.url, "bench-status");
const headers = { authorization: `Bearer ${KEY}` };
const store = createJobStore({ redis: producer, prefix });

async function batchOf(rows: number): Promise<string> {
  const path = join(dir, `rows-${rows}.csv`);
  await pipeline(
    Readable.from(
      (function* () {
        yield "tags,duration\n";
        for (let i = 1; i <= rows; i++) yield `"house, take ${i}",30\n`;
      })(),
    ),
    createWriteStream(path),
  );
  const res = await fetch(`${apiUrl}/v1/batches?model=${MODEL}`, {
    method: "POST",
    headers: { ...headers, "content-type": "text/csv" },
    body: Readable.toWeb(createReadStream(path)) as ReadableStream,
    duplex: "half",
  } as RequestInit);
  const body = (await res.json()) as { id: string; accepted: number };
  if (res.status !== 201 || body.accepted !== rows) throw new Error(`upload answered ${res.status}`);
  // In progress: a few rows started and finished, so status, ETA and start time are all computed.
  for (let row = 1; row <= 10; row++) {
    const id = batchJobId(body.id, row);
    await store.transition(id, { from: "*", to: "in_progress", set: { started_at: new Date(Date.now() - 60_000).toISOString() } });
    await store.transition(id, { from: "*", to: row % 5 === 0 ? "failed" : "completed", set: { finished_at: new Date().toISOString() } });
  }
  return body.id;
}

const small = await batchOf(100);
const large = await batchOf(100_000);

async function timeGet(id: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${apiUrl}/v1/batches/${id}`, { headers });
  const body = (await res.json()) as { counts: { queued: number } };
  const ms = performance.now() - t;
  if (res.status !== 200 || body.counts.queued <= 0) throw new Error(`GET answered ${res.status}`);
  return ms;
}
for (let i = 0; i < 50; i++) await Promise.all([timeGet(small), timeGet(large)]);
const samples: Record<"small" | "large", number[]> = { small: [], large: [] };
for (let i = 0; i < REQUESTS; i++) {
  samples.small.push(await timeGet(small));
  samples.large.push(await timeGet(large));
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (x: number) => Number(x.toFixed(3));
for (const p of [50, 99]) {
  const value = pct(samples.large, p);
  const baseline = pct(samples.small, p);
  report({
    name: `GET /v1/batches/{id} p${p} latency, 100,000-row vs 100-row batch`,
    value: round(value),
    unit: "ms",
    baseline: round(baseline),
    ratio: round(value / baseline),
    goal: "≤ 1.5× the 100-row batch (O(1) whatever the size)",
    met: value / baseline <= 1.5,
    details: { requests_each: REQUESTS },
  });
}

await app.close();
await queues.generate.obliterate({ force: true });
await queues.close();
await closeRedis(producer);
await rm(dir, { recursive: true, force: true });
await redis.stop();
