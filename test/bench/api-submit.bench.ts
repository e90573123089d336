// API submit throughput: `POST /v1/jobs` (auth, zod validation, estimate, record + indexes, queue
// add) at 50 connections, against a bare Fastify route that only does BullMQ `queue.add` on the
// same Redis in the same run. Goals: ratio ≥ 0.6, p99 ≤ 20 ms. Measured with the operator's admin
// key (exempt from rate limits) and again with a stored API key, as clients submit.
import { rm } from "node:fs/promises";
import autocannon from "autocannon";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import Fastify from "fastify";
import { closeRedis, createRedis } from "@acebatch/queue";
import { startTestRedis, uniquePrefix } from "@acebatch/testing";
import { BENCH_API_KEY as KEY, startBenchApi } from "./bench-api.ts";
import { report } from "./bench-result.ts";
import { machineBusyMs, mainThreadCpuMs, redisCpuMs } from "./process-cpu.ts";

const DURATION_S = 10;
const body = JSON.stringify({ model: "acestep-ai/ace-step/text-to-audio", input: { tags: "lo-fi, mellow, 80 BPM", duration: 30 } });

/** Microseconds of CPU per answered request, 0.1 µs resolution. */
const perRequestUs = (ms: number, requests: number) => Math.round((ms * 10_000) / requests) / 10;

async function load(url: string, headers: Record<string, string>, redisProbe: Redis) {
  const [serverBefore, redisBefore, machineBefore] = [await mainThreadCpuMs(), await redisCpuMs(redisProbe), await machineBusyMs()];
  const started = performance.now();
  // workers: 1 puts the load generator on its own thread, off the server's event loop.
  const result = await autocannon({ url, method: "POST", connections: 50, duration: DURATION_S, workers: 1, headers: { "content-type": "application/json", ...headers }, body });
  if (result.non2xx > 0) throw new Error(`${url}: ${result.non2xx} non-2xx answers`);
  const elapsedMs = performance.now() - started;
  const [serverMs, redisMs, machineMs] = [(await mainThreadCpuMs()) - serverBefore, (await redisCpuMs(redisProbe)) - redisBefore, (await machineBusyMs()) - machineBefore];
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    // The server's event loop (main thread; the load generator runs on its own thread) and Redis.
    server_cpu_us_per_request: perRequestUs(serverMs, result.requests.total),
    redis_cpu_us_per_request: perRequestUs(redisMs, result.requests.total),
    // How busy the server's event loop and the machine were: neither saturated means the run is
    // bound by the hand-offs between server, Redis and load generator, and throughput follows
    // the server's CPU per request.
    server_main_thread_busy: Number((serverMs / elapsedMs).toFixed(2)),
    machine_busy_cores: Number((machineMs / elapsedMs).toFixed(2)),
  };
}

const redis = await startTestRedis();
const redisProbe = createRedis(redis.url, "worker");

// Baseline: the least a queue-backed submit can do.
const basePrefix = uniquePrefix("bench-bare");
const bareConnection = createRedis(redis.url, "worker");
const bareQueue = new Queue("generate", { connection: bareConnection, prefix: basePrefix });
const bare = Fastify();
let n = 0;
bare.post("/v1/jobs", async (request, reply) => {
  const id = `bare-${++n}`;
  await bareQueue.add("generate", request.body as object, { jobId: id });
  return reply.status(202).send({ id });
});
const bareUrl = await bare.listen({ port: 0, host: "127.0.0.1" });
const baseline = await load(`${bareUrl}/v1/jobs`, {}, redisProbe);
await bare.close();
await bareQueue.obliterate({ force: true });
await bareQueue.close();
await closeRedis(bareConnection);

// acebatch's API, built the way main.ts builds it.
const { app, apiUrl, producer, queues, dir } = await startBenchApi(redis.url, "bench-api");
const ours = await load(`${apiUrl}/v1/jobs`, { authorization: `Bearer ${KEY}` }, redisProbe);

// The same API under a stored `ak_` key, as clients use it: the key is looked up in Redis and the
// request counted against its rate limit (one more Redis script per request; the admin key above
// is exempt from both). Its limit is set far above what the run can send.
const created = await fetch(`${apiUrl}/v1/keys`, {
  method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
  body: JSON.stringify({ name: "bench client", scopes: ["jobs:write", "jobs:read"], rate_limit_per_minute: 1_000_000 }),
});
if (created.status !== 201) throw new Error(`creating the bench key answered ${created.status}: ${await created.text()}`);
const storedKey = ((await created.json()) as { key: string }).key;
const withKey = await load(`${apiUrl}/v1/jobs`, { authorization: `Bearer ${storedKey}` }, redisProbe);

type Load = Awaited<ReturnType<typeof load>>;
/** A throughput row against the bare baseline, with both sides' latency and CPU per request in its details. */
function throughputRow(name: string, run: Load) {
  const ratio = run.rps / baseline.rps;
  const { rps: _rps, ...rest } = run;
  const { rps: _baseRps, ...base } = baseline;
  report({ name, value: run.rps, unit: "req/s", baseline: baseline.rps, ratio, goal: "≥ 0.6 of bare Fastify + queue.add", met: ratio >= 0.6, details: { ...rest, baseline: base } });
}

throughputRow("API submit throughput (50 connections)", ours);
report({ name: "API submit p99 latency (50 connections)", value: ours.p99, unit: "ms", baseline: baseline.p99, ratio: ours.p99 / baseline.p99, goal: "≤ 20 ms", met: ours.p99 <= 20 });
throughputRow("API submit with a stored API key (key lookup + rate limit), 50 connections", withKey);

await app.close();
await queues.generate.obliterate({ force: true });
await queues.close();
await closeRedis(producer);
await closeRedis(redisProbe);
await rm(dir, { recursive: true, force: true });
await redis.stop();
