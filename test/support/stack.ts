import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createLogger } from "@acebatch/config";
import { loadApiConfig, startApi } from "@acebatch/api";
import { startSimulator } from "@acebatch/simulator";
import { freePort, spawnService, uniquePrefix, waitFor, type SpawnedService } from "@acebatch/testing";
import { inject } from "vitest";

export const ADMIN_KEY = "e2e-admin-key-0123456789abcdef";
const WORKER_MAIN = resolve(import.meta.dirname, "../../services/worker/src/main.ts");

export interface StackOptions {
  label: string;
  /** Extra environment for worker processes. */
  workerEnv?: Record<string, string>;
  /** Extra environment for the API and every worker (e.g. WEBHOOK_SECRET); `workerEnv` wins for workers. */
  env?: Record<string, string>;
  simulatorConfig?: Record<string, unknown>;
  /** A Redis of the test's own (e.g. a restartable one); default: the run's shared test Redis. */
  redisUrl?: string;
  /** The API's logger (default: warnings and errors only, to stdout). */
  apiLogger?: ReturnType<typeof createLogger>;
}

/**
 * A full acebatch stack for cross-service tests: the simulator and the API in this process, worker
 * processes as children (so they can be SIGKILLed), all on a unique Redis prefix and a temp DATA_DIR.
 */
export async function startStack(options: StackOptions) {
  const redisUrl = options.redisUrl ?? inject("redisUrl");
  const prefix = uniquePrefix(options.label);
  const dataDir = await mkdtemp(join(tmpdir(), `acebatch-${options.label}-`));
  const simulator = await startSimulator({ port: 0, host: "127.0.0.1", logger: createLogger({ name: "sim", level: "silent" }) });
  const apiPort = await freePort();
  const env: Record<string, string> = {
    REDIS_URL: redisUrl,
    ACEBATCH_PREFIX: prefix,
    DATA_DIR: dataDir,
    PORT: String(apiPort),
    HOST: "127.0.0.1",
    PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
    URL_SIGNING_SECRET: "e2e-signing-secret-0123456789abcdefghij",
    RUNCOMFY_MODEL_API_BASE: simulator.url,
    RUNCOMFY_TOKEN: "e2e-provider-token",
    LOG_LEVEL: "info",
    PROVIDER_POLL_MIN_MS: "50",
    PROVIDER_POLL_MAX_MS: "500",
    WORKER_LOCK_DURATION_MS: "2000",
    ...options.env,
  };
  let api = await startApi(loadApiConfig(env), { adminKey: ADMIN_KEY, logger: options.apiLogger ?? createLogger({ name: `api-${options.label}`, level: "warn" }) });
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const simControl = simulator.url.replace(/\/v1$/, "");
  const workers = new Set<SpawnedService>();
  // Every worker ever started, killed ones too, so a failing test can show what they logged.
  const everyWorker: SpawnedService[] = [];

  async function sim(path: string, init: RequestInit = {}) {
    const headers: Record<string, string> = init.body === undefined ? {} : { "content-type": "application/json" };
    const res = await fetch(`${simControl}${path}`, { ...init, headers });
    if (!res.ok) throw new Error(`simulator ${path} answered ${res.status}: ${await res.text()}`);
    return res.json() as Promise<Record<string, any>>;
  }
  await sim("/__sim/config", { method: "PUT", body: JSON.stringify({ sample_rate: 8000, ...options.simulatorConfig }) });

  const stack = {
    baseUrl,
    env,
    dataDir,
    simulator,
    async startWorker(extraEnv: Record<string, string> = {}) {
      const worker = await spawnService(WORKER_MAIN, { ...env, ...options.workerEnv, ...extraEnv }, { readyPattern: /worker ready/ });
      workers.add(worker);
      everyWorker.push(worker);
      return worker;
    },
    async stopWorker(worker: SpawnedService, how: "SIGTERM" | "SIGKILL" = "SIGTERM") {
      workers.delete(worker);
      if (how === "SIGKILL") {
        worker.kill9();
        await worker.exited;
      } else await worker.stop("SIGTERM");
    },
    async api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as any) : null, headers: res.headers };
    },
    /** Lines any worker process of this stack logged that mention `text` (e.g. a job id). */
    workerLogLines(text: string): string[] {
      return everyWorker.flatMap((w) => w.output().split("\n").filter((line) => line.includes(text)).map((line) => `[pid ${w.pid}] ${line}`));
    },
    sim,
    simStats: () => sim("/__sim/stats"),
    /** Close the API and start a new one (same port, prefix and Redis), as a deploy would. */
    async restartApi(start: () => ReturnType<typeof startApi>) {
      await api.close();
      api = await start();
    },
    async waitForJob(id: string, statuses: string[] = ["completed"], timeoutMs = 30_000) {
      return waitFor(
        async () => {
          const { body } = await stack.api("GET", `/v1/jobs/${id}`);
          if (["failed", "cancelled", "completed"].includes(body.status) && !statuses.includes(body.status)) {
            throw new Error(`job ${id} ended ${body.status}: ${JSON.stringify(body.error)}`);
          }
          return statuses.includes(body.status) ? body : undefined;
        },
        { timeoutMs, intervalMs: 100, message: `job ${id} did not reach ${statuses.join("/")}` },
      );
    },
    /** Submit `count` text-to-audio jobs (5 s each unless `input` says otherwise); returns their ids. */
    async submitMany(count: number, input: Record<string, unknown> = {}, model = "acestep-ai/ace-step/text-to-audio") {
      const ids: string[] = [];
      for (let start = 0; start < count; start += 50) {
        const chunk = await Promise.all(
          Array.from({ length: Math.min(50, count - start) }, (_, i) =>
            stack.api("POST", "/v1/jobs", { model, input: { tags: `draft ${start + i}`, duration: 5, ...input } }),
          ),
        );
        for (const res of chunk) {
          if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${JSON.stringify(res.body)}`);
          ids.push(res.body.id);
        }
      }
      return ids;
    },
    /** Job counts by status over every job of this stack. */
    async statusCounts() {
      const counts: Record<string, number> = {};
      let cursor: string | null = null;
      do {
        const query: string = `/v1/jobs?limit=500${cursor ? `&cursor=${cursor}` : ""}`;
        const { body } = await stack.api("GET", query);
        for (const job of body.data) counts[job.status] = (counts[job.status] ?? 0) + 1;
        cursor = body.next_cursor;
      } while (cursor);
      return counts;
    },
    /** Wait until every job of this stack is in a final state; returns the counts. */
    async waitForAllFinal(total: number, timeoutMs = 60_000) {
      return waitFor(
        async () => {
          const counts = await stack.statusCounts();
          const final = (counts.completed ?? 0) + (counts.failed ?? 0) + (counts.cancelled ?? 0);
          return final >= total ? counts : undefined;
        },
        { timeoutMs, intervalMs: 250, message: `not all ${total} jobs reached a final state` },
      );
    },
    async close() {
      for (const w of workers) await w.stop("SIGTERM").catch(() => w.kill9());
      await api.close();
      await simulator.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

export type Stack = Awaited<ReturnType<typeof startStack>>;
