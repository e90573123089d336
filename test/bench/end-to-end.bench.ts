// End to end: jobs/s through API → worker → simulator (instant renders, 5 s clips) → storage →
// completed, against a raw BullMQ worker with a no-op processor on the same Redis in the same run
// (goal ≥ 0.07×). Also the Redis memory each retained completed job costs (goal ≤ 2 KB), and the
// CPU time each job costs per process (worker, this process = API + simulator, Redis), which
// says where the time goes independently of what else the machine is doing.
// Every job asks for the same tags and seed, so the simulator (a stand-in for the provider's
// render farm) synthesizes the WAV once and serves it from its cache: its synthesis would
// otherwise take this process's CPU from the API under test.
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { startTestRedis, uniquePrefix, waitFor } from "@acebatch/testing";
import { report } from "./bench-result.ts";
import { startBenchStack } from "./bench-stack.ts";
import { processCpuMs, redisCpuMs } from "./process-cpu.ts";
import { describeCommand, workerStartCommand } from "./start-command.ts";

const JOBS = 2_000;
const redis = await startTestRedis();
const admin = new Redis(redis.url);
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info("memory"))![1]);

// Baseline: raw BullMQ, no-op processor.
const rawPrefix = uniquePrefix("bench-raw");
const rawQueue = new Queue("raw", { connection: new Redis(redis.url, { maxRetriesPerRequest: null }), prefix: rawPrefix });
await rawQueue.addBulk(Array.from({ length: JOBS * 5 }, (_, i) => ({ name: "noop", data: { i }, opts: { removeOnComplete: true } })));
let rawDone = 0;
const rawStart = Date.now();
const rawWorker = new Worker("raw", async () => undefined, { connection: new Redis(redis.url, { maxRetriesPerRequest: null }), prefix: rawPrefix, concurrency: 100 });
rawWorker.on("completed", () => rawDone++);
await waitFor(async () => (rawDone >= JOBS * 5 ? true : undefined), { timeoutMs: 120_000, intervalMs: 20, message: "raw worker did not finish" });
const rawRate = rawDone / ((Date.now() - rawStart) / 1000);
await rawWorker.close();
await rawQueue.obliterate({ force: true });
await rawQueue.close();

// acebatch end to end.
const workerCommand = workerStartCommand();
const stack = await startBenchStack({
  label: "e2e",
  redisUrl: redis.url,
  simConfig: { speed: 0, sample_rate: 8000, max_concurrent: 100_000, output_cache_bytes: 64 * 1024 * 1024 },
  // The worker starts as `pnpm start:worker` starts it (its memory flags cost CPU per job).
  workerNodeArgs: workerCommand.nodeArgs,
  workerEnv: { ...workerCommand.env, NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS ?? "", WORKER_CONCURRENCY: "100", PROVIDER_MAX_CONCURRENT: "100000", PROVIDER_POLL_MIN_MS: "1", PROVIDER_EXPECTED_SPEED: "1000000" },
});
const worker = await stack.startWorker();
const cpuNow = async () => ({ worker: await processCpuMs(worker.pid), api_and_simulator: await processCpuMs(process.pid), redis: await redisCpuMs(admin) });
const memoryBefore = await usedMemory();
const cpuBefore = await cpuNow();
const started = Date.now();
await stack.submit(JOBS, { tags: "bench, lo-fi, 90 BPM", duration: 5, seed: 7 });
await waitFor(async () => ((await stack.countCompleted()) >= JOBS ? true : undefined), { timeoutMs: 10 * 60_000, intervalMs: 250, message: "jobs did not complete" });
const rate = JOBS / ((Date.now() - started) / 1000);
const cpuAfter = await cpuNow();
const cpuMsPerJob = Object.fromEntries(Object.entries(cpuAfter).map(([k, v]) => [k, Number(((v - cpuBefore[k as keyof typeof cpuBefore]) / JOBS).toFixed(2))]));
const bytesPerJob = ((await usedMemory()) - memoryBefore) / JOBS;
console.log(`CPU per job (ms): ${Object.entries(cpuMsPerJob).map(([k, v]) => `${k} ${v}`).join(", ")}`);

report({ name: "end-to-end throughput (API → worker → simulator → storage)", value: rate, unit: "jobs/s", baseline: rawRate, ratio: rate / rawRate, goal: "≥ 0.07 of a raw no-op BullMQ worker", met: rate / rawRate >= 0.07, details: { jobs: JOBS, workers: 1, cpu_ms_per_job: cpuMsPerJob, worker_command: describeCommand(workerCommand, "services/worker/src/main.ts") } });
report({ name: "Redis memory per retained completed job", value: bytesPerJob, unit: "bytes", baseline: null, ratio: null, goal: "≤ 2048 bytes", met: bytesPerJob <= 2048, details: { jobs: JOBS, includes: "job record + indexes + BullMQ retention + ledger rows" } });

await stack.close();
admin.disconnect();
await redis.stop();
process.exit(0);
