// Provider utilisation at a concurrency limit: the simulator renders at most C requests at once and
// each takes T seconds, so the ideal throughput is C/T jobs per second. acebatch (API + two worker
// processes + Redis) must keep the provider busy: goal ≥ 95% of ideal over the steady state.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createLogger } from "@acebatch/config";
import { loadApiConfig, startApi } from "@acebatch/api";
import { startSimulator } from "@acebatch/simulator";
import { freePort, spawnService, startTestRedis, uniquePrefix, waitFor } from "@acebatch/testing";
import { BENCH_API_KEY as KEY, benchApiLogger } from "./bench-api.ts";
import { report } from "./bench-result.ts";

const C = 20;
const DURATION_S = 5;
const SPEED = 5; // audio seconds per wall second → T = 1 s per render
const T = DURATION_S / SPEED;
const JOBS = 400;

const redis = await startTestRedis();
const dataDir = await mkdtemp(join(tmpdir(), "acebatch-bench-util-"));
const simulator = await startSimulator({ port: 0, host: "127.0.0.1", logger: createLogger({ name: "sim", level: "silent" }) });
await fetch(`${simulator.origin}/__sim/config`, {
  method: "PUT",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ max_concurrent: C, speed: SPEED, sample_rate: 8000 }),
});
const port = await freePort();
const env: Record<string, string> = {
  REDIS_URL: redis.url,
  ACEBATCH_PREFIX: uniquePrefix("bench-util"),
  DATA_DIR: dataDir,
  PORT: String(port),
  PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
  URL_SIGNING_SECRET: "bench-signing-secret-0123456789abcdefghij",
  RUNCOMFY_MODEL_API_BASE: simulator.url,
  RUNCOMFY_TOKEN: "bench-token",
  LOG_LEVEL: "info",
  PROVIDER_RPS: "0",
  // Keep a queue at the provider so a finishing render is replaced at once.
  PROVIDER_MAX_CONCURRENT: String(2 * C),
  WORKER_CONCURRENCY: String(C),
  PROVIDER_EXPECTED_SPEED: String(SPEED),
  PROVIDER_POLL_MIN_MS: "50",
  PROVIDER_POLL_MAX_MS: "250",
};
const api = await startApi(loadApiConfig(env), { adminKey: KEY, logger: benchApiLogger() });
const workerMain = resolve(import.meta.dirname, "../../services/worker/src/main.ts");
const workers = [await spawnService(workerMain, env, { readyPattern: /worker ready/ }), await spawnService(workerMain, env, { readyPattern: /worker ready/ })];

const post = (body: unknown) =>
  fetch(`http://127.0.0.1:${port}/v1/jobs`, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: JSON.stringify(body) });
const started = Date.now();
for (let i = 0; i < JOBS; i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, JOBS - i) }, (_, k) => post({ model: "acestep-ai/ace-step/text-to-audio", input: { tags: `bench ${i + k}`, duration: DURATION_S } })));
}
const finishedAt = await waitFor(
  async () => {
    const times: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await fetch(`http://127.0.0.1:${port}/v1/jobs?status=completed&limit=500${cursor ? `&cursor=${cursor}` : ""}`, { headers: { authorization: `Bearer ${KEY}` } });
      const body = (await res.json()) as { data: { finished_at: string }[]; next_cursor: string | null };
      times.push(...body.data.map((j) => Date.parse(j.finished_at)));
      cursor = body.next_cursor;
    } while (cursor);
    return times.length >= JOBS ? times.sort((a, b) => a - b) : undefined;
  },
  { timeoutMs: 10 * 60_000, intervalMs: 500, message: "the benchmark jobs did not all complete" },
);
const ideal = C / T;
// Steady state: from the 10th to the 90th percentile completion (ramp-up and drain excluded).
const lo = finishedAt[Math.floor(JOBS * 0.1)]!;
const hi = finishedAt[Math.floor(JOBS * 0.9)]!;
const steady = (Math.floor(JOBS * 0.9) - Math.floor(JOBS * 0.1)) / ((hi - lo) / 1000);
const overall = JOBS / ((finishedAt.at(-1)! - started) / 1000);
const stats = (await (await fetch(`${simulator.origin}/__sim/stats`)).json()) as { peak_concurrent: number; status_calls: number };
report({
  name: "provider utilisation at a concurrency limit",
  value: steady,
  unit: "jobs/s",
  baseline: ideal,
  ratio: steady / ideal,
  goal: "≥ 0.95 of C/T",
  met: steady / ideal >= 0.95,
  details: { C, T_seconds: T, jobs: JOBS, overall_jobs_per_s: overall, peak_concurrent: stats.peak_concurrent, status_calls_per_job: stats.status_calls / JOBS },
});

for (const w of workers) await w.stop("SIGTERM");
await api.close();
await simulator.close();
await redis.stop();
await rm(dataDir, { recursive: true, force: true });
