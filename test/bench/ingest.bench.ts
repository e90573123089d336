// Batch ingest: a 100,000-row CSV streamed to `POST /v1/batches` until the 201 (every job has
// its record and is in BullMQ), against raw BullMQ `addBulk` of the same 100,000 jobs (same ids,
// payloads and options, 1,000 per call) on the same Redis in the same run. Goals: ratio ≤ 1.5,
// and the API process's peak RSS during the upload < 300 MB (the file is never held in memory).
// The API runs as its own process, started exactly as `pnpm start:api` starts it (same Node flags),
// so its peak RSS is the kernel's high-water mark for that process alone, not this benchmark's
// client and baseline.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Queue } from "bullmq";
import { BATCH_JOB_PRIORITY, batchJobId, closeRedis, createQueues, createRedis, generateJobOptions } from "@acebatch/queue";
import { freePort, spawnService, startTestRedis, uniquePrefix } from "@acebatch/testing";
import { BENCH_API_KEY as KEY } from "./bench-api.ts";
import { report } from "./bench-result.ts";
import { processMemory } from "./process-memory.ts";
import { startCommand } from "./start-command.ts";

const ROWS = Number(process.env.BENCH_INGEST_ROWS ?? 100_000);
const MODEL = "acestep-ai/ace-step/text-to-audio";
const GENRES = ["lo-fi", "house", "jazz", "ambient", "synthwave", "drum and bass", "techno", "folk"];
const row = (i: number) => ({ tags: `${GENRES[i % GENRES.length]}, take ${i}, 90 BPM`, duration: 30 + (i % 90), seed: -1 });

/** The CSV as an upload would send it, produced chunk by chunk (never one big string). */
function* csv(rows: number): Generator<string> {
  yield "tags,duration,seed,take\n";
  for (let start = 1; start <= rows; start += 1_000) {
    let chunk = "";
    for (let i = start; i < Math.min(start + 1_000, rows + 1); i++) {
      const r = row(i);
      chunk += `"${r.tags}",${r.duration},${r.seed},take-${i}\n`;
    }
    yield chunk;
  }
}

const redis = await startTestRedis();
const dir = await mkdtemp(join(tmpdir(), "acebatch-bench-ingest-"));
const prefix = uniquePrefix("bench-ingest");
const port = await freePort();
const apiUrl = `http://127.0.0.1:${port}`;
// Started as `pnpm start:api` starts it (its environment and Node flags), so the benchmark measures the command users run.
const apiCommand = startCommand("start:api", "services/api/src/main.ts");
const apiNodeArgs = apiCommand.nodeArgs;
const api = await spawnService(resolve(import.meta.dirname, "../../services/api/src/main.ts"), {
  ...apiCommand.env,
  REDIS_URL: redis.url,
  ACEBATCH_PREFIX: prefix,
  ACEBATCH_ADMIN_KEY: KEY,
  DATA_DIR: dir,
  PORT: String(port),
  URL_SIGNING_SECRET: "bench-signing-secret-0123456789abcdefghij",
  LOG_LEVEL: "info",
  // e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the API during the run.
  NODE_OPTIONS: process.env.BENCH_API_NODE_OPTIONS ?? "",
}, { readyPattern: /api listening/, maxOutputBytes: 64 * 1024, nodeArgs: apiNodeArgs });
const producer = createRedis(redis.url, "producer");
const queues = createQueues(producer, { prefix, maxAttempts: 5 });

/** The CSV is written to a file first (untimed) and streamed from disk, as a client would send it. */
async function csvFile(rows: number): Promise<string> {
  const path = join(dir, `upload-${rows}.csv`);
  await pipeline(Readable.from(csv(rows)), createWriteStream(path));
  return path;
}

async function upload(path: string, rows: number) {
  const res = await fetch(`${apiUrl}/v1/batches?model=${MODEL}`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "text/csv" },
    body: Readable.toWeb(createReadStream(path, { highWaterMark: 256 * 1024 })) as ReadableStream,
    duplex: "half",
  } as RequestInit);
  const body = (await res.json()) as { id: string; accepted: number };
  if (res.status !== 201 || body.accepted !== rows) throw new Error(`upload answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return body.id;
}

// Warm both paths (JIT, Redis script cache) before measuring.
await upload(await csvFile(2_000), 2_000);
const bigFile = await csvFile(ROWS);
const rawConnection = createRedis(redis.url, "worker");
const rawQueue = new Queue("generate", { connection: rawConnection, prefix: uniquePrefix("bench-raw"), defaultJobOptions: generateJobOptions(5) });
async function rawAddBulk(batchId: string, rows: number) {
  for (let start = 1; start <= rows; start += 1_000) {
    const jobs = [];
    for (let i = start; i < Math.min(start + 1_000, rows + 1); i++) {
      const id = batchJobId(batchId, i);
      jobs.push({ name: "generate", data: { job_id: id, model: MODEL, input: row(i) }, opts: { jobId: id, priority: BATCH_JOB_PRIORITY } });
    }
    await rawQueue.addBulk(jobs);
  }
}
await rawAddBulk("bat_warmupwarmupwarmupwarmupwa", 2_000);
await rawQueue.obliterate({ force: true });

const before = await processMemory(api.pid);
const t0 = performance.now();
const batchId = await upload(bigFile, ROWS);
const uploadSeconds = (performance.now() - t0) / 1000;
const after = await processMemory(api.pid);
const peakRss = after.peak;
const inQueue = await queues.generate.getJobCountByTypes("prioritized", "waiting");
if (inQueue !== ROWS + 2_000) throw new Error(`expected ${ROWS + 2_000} jobs in BullMQ, found ${inQueue}`);

const t1 = performance.now();
await rawAddBulk(batchId, ROWS);
const rawSeconds = (performance.now() - t1) / 1000;
if ((await rawQueue.getJobCountByTypes("prioritized")) !== ROWS) throw new Error("raw addBulk did not enqueue every job");

const ratio = uploadSeconds / rawSeconds;
report({
  name: "batch ingest: 100k-row CSV upload → all enqueued",
  value: Number(uploadSeconds.toFixed(2)),
  unit: "s",
  baseline: Number(rawSeconds.toFixed(2)),
  ratio: Number(ratio.toFixed(3)),
  goal: "≤ 1.5× raw BullMQ addBulk of the same jobs",
  met: ratio <= 1.5,
  details: { rows: ROWS, rows_per_second: Math.round(ROWS / uploadSeconds), raw_jobs_per_second: Math.round(ROWS / rawSeconds) },
});
const mb = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1));
report({
  name: "batch ingest: API process peak RSS during the 100k-row upload",
  value: mb(peakRss),
  unit: "MB",
  baseline: mb(before.rss),
  ratio: null,
  goal: "< 300 MB",
  met: peakRss < 300 * 1024 * 1024,
  details: { rss_before_upload_mb: mb(before.rss), peak_before_upload_mb: mb(before.peak), rss_after_upload_mb: mb(after.rss), measured: "VmHWM of the API process", node_args: apiNodeArgs.join(" ") },
});

await api.stop("SIGTERM");
await queues.generate.obliterate({ force: true });
await rawQueue.obliterate({ force: true });
await rawQueue.close();
await queues.close();
await closeRedis(rawConnection);
await closeRedis(producer);
await rm(dir, { recursive: true, force: true });
await redis.stop();
