import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@acebatch/config";
import { loadApiConfig, startApi } from "@acebatch/api";
import { startTestRedis, waitFor, type SpawnedRedis, type SpawnedService } from "@acebatch/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ADMIN_KEY, startStack, type Stack } from "../support/stack.ts";

// A mixed run (single jobs, a CSV batch, a schedule) while worker processes are SIGKILLed and
// restarted, the API restarted, Redis restarted (AOF on) and the simulator injects 429s, 5xx,
// timeouts and slow downloads. Afterwards every job is final, none is lost, no request was
// submitted twice, the ledger equals what the provider billed, and storage matches the records.
const SINGLES = Number(process.env.CHAOS_SINGLES ?? 700);
const BATCH_ROWS = Number(process.env.CHAOS_BATCH_ROWS ?? 300);

let redis: SpawnedRedis;
let stack: Stack;
beforeAll(async () => {
  redis = await startTestRedis({ restartable: true });
  stack = await startStack({
    label: "chaos",
    redisUrl: redis.url,
    workerEnv: {
      PROVIDER_RPS: "0",
      WORKER_CONCURRENCY: "60",
      PROVIDER_REQUEST_TIMEOUT_MS: "1500",
      PROVIDER_BACKOFF_BASE_MS: "50",
      PROVIDER_MAX_RETRY_AFTER_SECONDS: "1",
      // A submit whose answer never came may have been billed: with resubmission off such a job fails
      // (ambiguous_submission) instead of paying twice, which is what this run checks.
      PROVIDER_RESUBMIT_AMBIGUOUS: "false",
      JOB_MAX_ATTEMPTS: "10",
    },
  });
});
afterAll(async () => {
  await stack?.close();
  await redis?.stop();
});

async function restartApi(): Promise<void> {
  // The stack's API runs in this process: close it and start a new one on the same port and prefix.
  await stack.restartApi(async () => {
    const api = await startApi(loadApiConfig(stack.env), { adminKey: ADMIN_KEY, logger: createLogger({ name: "api-chaos", level: "warn" }) });
    return api;
  });
}

it("a 1,000-job mixed run under crashes, restarts and provider faults ends consistent", async () => {
  await stack.sim("/__sim/config", {
    method: "PUT",
    body: JSON.stringify({
      speed: 20,
      retry_after_seconds: 1,
      timeout_hold_ms: 3_000,
      download_delay_ms: 50,
      fail: { rate_429: 0.05, rate_5xx: 0.05, rate_timeout: 0.02 },
      fail_seed: 42,
    }),
  });
  const workers: SpawnedService[] = [await stack.startWorker(), await stack.startWorker()];

  const csv = ["tags,duration,take", ...Array.from({ length: BATCH_ROWS }, (_, i) => `chaos row ${i},5,${i}`)].join("\n");
  const batch = await fetch(`${stack.baseUrl}/v1/batches?on_invalid=reject`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "text/csv" },
    body: csv,
  });
  expect(batch.status).toBe(201);
  const schedule = await stack.api("POST", "/v1/schedules", {
    name: "chaos jingle",
    every_seconds: 2,
    timezone: "UTC",
    model: "acestep-ai/ace-step/text-to-audio",
    input: { tags: "jingle", duration: 5 },
    overlap: "allow",
  });
  expect(schedule.status).toBe(201);
  // Every job is accepted before the chaos starts; the chaos hits them while they run.
  await stack.submitMany(SINGLES);
  const since = Date.now() - 60_000;

  // Chaos while the work runs.
  for (let round = 0; round < 5; round++) {
    await sleep(2_000);
    const victim = workers.shift()!;
    await stack.stopWorker(victim, "SIGKILL");
    workers.push(await stack.startWorker());
    if (round === 1) await restartApi();
    if (round === 3) {
      await redis.restart({ signal: "SIGTERM", downtimeMs: 1_000 });
    }
  }
  await stack.api("DELETE", `/v1/schedules/${schedule.body.id}`);
  await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ fail: { rate_429: 0, rate_5xx: 0, rate_timeout: 0 } }) });

  const counts = await waitFor(
    async () => {
      const c = await stack.statusCounts();
      const open = (c.queued ?? 0) + (c.in_progress ?? 0) + (c.waiting_budget ?? 0);
      return open === 0 ? c : undefined;
    },
    { timeoutMs: 8 * 60_000, intervalMs: 1_000, message: "not every job reached a final state" },
  );
  const jobs: any[] = [];
  let cursor: string | null = null;
  do {
    const page: any = (await stack.api("GET", `/v1/jobs?limit=500${cursor ? `&cursor=${cursor}` : ""}`)).body;
    jobs.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  const total = jobs.length;
  console.log(`[chaos] ${total} jobs`, counts);
  expect(total).toBeGreaterThanOrEqual(SINGLES + BATCH_ROWS);

  const stats = await stack.simStats();
  const calls = (await stack.sim(`/__sim/calls?since=${since}`)) as unknown as { method: string; path: string; status: number }[];
  const submitCalls = calls.filter((c) => c.method === "POST" && c.path.startsWith("/v1/models/"));
  // A submit answered 5xx was never created by the simulator, but acebatch cannot know that and
  // charges it as possibly billed; a submit held until it timed out WAS created (and billed).
  const submits5xx = submitCalls.filter((c) => c.status >= 500 && c.status !== 504).length;
  const submitsTimedOut = submitCalls.filter((c) => c.status === 504 || c.status === 499).length;
  const completed = jobs.filter((j) => j.status === "completed");
  const providerFailed = jobs.filter((j) => j.status === "failed" && j.provider.request_id);
  // A worker killed between sending a submit and recording its answer leaves an unknown outcome too.
  const crashAmbiguous = jobs.filter((j) => j.error?.code === "ambiguous_submission" && /earlier submit/.test(j.error.message)).length;
  console.log(`[chaos] submits ${stats.submits}, completed ${completed.length}, provider-failed ${providerFailed.length}, submit 5xx ${submits5xx}, submit timeouts ${submitsTimedOut}, crash-ambiguous ${crashAmbiguous}`);

  // No request submitted twice: every provider request belongs to one job.
  const accounted = completed.length + providerFailed.length + submitsTimedOut;
  expect(stats.submits).toBeGreaterThanOrEqual(accounted);
  expect(stats.submits).toBeLessThanOrEqual(accounted + crashAmbiguous);
  // Money: the ledger holds what the provider billed, plus the possible charges it could not rule out.
  const budget = (await stack.api("GET", "/v1/budget")).body;
  const overcharge = Math.round(budget.spent_usd * 1e6) - Math.round(stats.billed_usd * 1e6);
  const perJob = 5 * 200; // every job here is a 5 s base-model render: 1,000 µ$
  expect(overcharge).toBeGreaterThanOrEqual(perJob * submits5xx);
  expect(overcharge).toBeLessThanOrEqual(perJob * (submits5xx + crashAmbiguous));

  // Storage matches the records: every completed job has its file, and no file lacks a completed job.
  // A mismatch names the job's record and what the workers logged about it.
  const explain = (id: string) => {
    const job = jobs.find((j) => j.id === id);
    const record = job ? JSON.stringify({ status: job.status, attempts: job.attempts, error: job.error, provider: job.provider }) : "no record";
    return `${record}\n${stack.workerLogLines(id).join("\n")}`;
  };
  // A job's stored files share its folder (an emptied folder of removed files holds no audio).
  const jobsDir = join(stack.dataDir, "jobs");
  const folders = await readdir(jobsDir).catch(() => [] as string[]);
  const onDisk = new Set<string>();
  for (const id of folders) if ((await readdir(join(jobsDir, id))).length > 0) onDisk.add(id);
  // Explained only when they mismatch: the workers' logs are megabytes.
  const completedIds = new Set(completed.map((j) => j.id));
  const withoutAudio = completed.filter((job) => !onDisk.has(job.id)).map((job) => `${job.id}: ${explain(job.id)}`);
  const withoutJob = [...onDisk].filter((id) => !completedIds.has(id)).map((id) => `${id}: ${explain(id)}`);
  expect(withoutAudio, "completed jobs without stored audio").toEqual([]);
  expect(withoutJob, "stored audio without a completed job").toEqual([]);
});
