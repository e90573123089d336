import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createLogger } from "@acebatch/config";
import { loadApiConfig, startApi } from "@acebatch/api";
import { createKeys } from "@acebatch/queue";
import { startSimulator } from "@acebatch/simulator";
import { Redis } from "ioredis";
import { freePort, spawnService, uniquePrefix, type SpawnedService } from "@acebatch/testing";
import { BENCH_API_KEY, benchApiLogger } from "./bench-api.ts";

const WORKER_MAIN = resolve(import.meta.dirname, "../../services/worker/src/main.ts");

/** Simulator + API in this process and worker child processes, on one Redis, for benchmarks. */
export async function startBenchStack(options: {
  label: string;
  redisUrl: string;
  simConfig: Record<string, unknown>;
  workerEnv?: Record<string, string>;
  /** Node options before the worker's script path (V8 flags NODE_OPTIONS refuses). */
  workerNodeArgs?: string[];
}) {
  const dataDir = await mkdtemp(join(tmpdir(), `acebatch-bench-${options.label}-`));
  const simulator = await startSimulator({ port: 0, host: "127.0.0.1", logger: createLogger({ name: "sim", level: "silent" }) });
  await fetch(`${simulator.origin}/__sim/config`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(options.simConfig) });
  const port = await freePort();
  const env: Record<string, string> = {
    REDIS_URL: options.redisUrl,
    ACEBATCH_PREFIX: uniquePrefix(options.label),
    DATA_DIR: dataDir,
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    URL_SIGNING_SECRET: "bench-signing-secret-0123456789abcdefghij",
    RUNCOMFY_MODEL_API_BASE: simulator.url,
    RUNCOMFY_TOKEN: "bench-token",
    LOG_LEVEL: "info",
    PROVIDER_RPS: "0",
    ...options.workerEnv,
  };
  const redis = new Redis(options.redisUrl);
  const api = await startApi(loadApiConfig(env), { adminKey: BENCH_API_KEY, logger: benchApiLogger() });
  const workers: SpawnedService[] = [];
  const baseUrl = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${BENCH_API_KEY}`, "content-type": "application/json" };
  return {
    env,
    baseUrl,
    simulator,
    workers,
    async startWorker() {
      const worker = await spawnService(WORKER_MAIN, env, { readyPattern: /worker ready/, maxOutputBytes: 64 * 1024, nodeArgs: options.workerNodeArgs });
      workers.push(worker);
      return worker;
    },
    /** Submit `count` text-to-audio jobs through the API, 100 at a time; tags default to "bench <i>" (set them in `input` to repeat one). */
    async submit(count: number, input: Record<string, unknown>) {
      const body = (i: number) => JSON.stringify({ model: "acestep-ai/ace-step/text-to-audio", input: { tags: `bench ${i}`, ...input } });
      for (let i = 0; i < count; i += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, count - i) }, async (_, k) => {
            const res = await fetch(`${baseUrl}/v1/jobs`, { method: "POST", headers, body: body(i + k) });
            if (res.status !== 202) throw new Error(`submit answered ${res.status}`);
          }),
        );
      }
    },
    /**
     * Completed jobs, read as one ZCARD of the job store's status index: the measurement must not
     * load the system it measures (listing every completed job through the API 4× a second did).
     */
    async countCompleted(): Promise<number> {
      return redis.zcard(createKeys(env.ACEBATCH_PREFIX!).jobsByStatus("completed"));
    },
    async close() {
      redis.disconnect();
      for (const w of workers) await w.stop("SIGTERM");
      await api.close();
      await simulator.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
