// Worker memory while streaming big outputs: one worker process (WORKER_CONCURRENCY=20) completes
// 100 jobs whose outputs are 240 s, 48 kHz, 16-bit stereo WAVs (46,080,044 bytes each), rendered
// instantly by the simulator (in this process; one synthesized file, streamed from disk to each job).
// The worker's resident memory is read from /proc every ~100 ms while the jobs run, until every job
// also has its waveform peaks (made in the worker process too). Goals: the worker's peak RSS (the
// kernel's VmHWM) ≤ 200 MB, and flat: the mean RSS of the last third of the steady phase (20 jobs in
// flight) within 10% of the first third's. Every job must complete with a stored file of exactly
// the expected size, or the bench throws.
// The worker is started exactly as `pnpm start:worker` starts it: the same Node flags and the same
// environment variables set in front of `node` (package.json), so the figure is the command users run.
// BENCH_WORKER_RSS_JOBS: job count; BENCH_WORKER_NODE_OPTIONS: the worker's NODE_OPTIONS;
// BENCH_WORKER_NODE_ARGS: Node flags instead of start:worker's (experiments; space-separated);
// BENCH_WORKER_ENV: a JSON object of extra worker environment variables (experiments);
// BENCH_WORKER_RSS_TIMELINE=1: print one sample a second to stderr.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { probeAudioFile } from "@acebatch/audio";
import { startTestRedis, waitFor } from "@acebatch/testing";
import { report } from "./bench-result.ts";
import { processMemory } from "./process-memory.ts";
import { BENCH_API_KEY } from "./bench-api.ts";
import { startBenchStack } from "./bench-stack.ts";
import { describeCommand, workerStartCommand } from "./start-command.ts";

const JOBS = Number(process.env.BENCH_WORKER_RSS_JOBS ?? 100);
const CONCURRENCY = 20;
const SECONDS = 240;
const SAMPLE_RATE = 48_000;
const CHANNELS = 2;
const EXPECTED_BYTES = 44 + SECONDS * SAMPLE_RATE * CHANNELS * 2; // 46,080,044
const GOAL_PEAK_MB = 200;
const FLAT_TOLERANCE = 0.1;
const SAMPLE_MS = 100;

const MiB = 1024 * 1024;
const mb = (bytes: number) => Number((bytes / MiB).toFixed(1));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

interface JobView {
  id: string;
  status: string;
  output: { bytes: number; duration_seconds: number; waveform_url: string | null } | null;
}

const command = workerStartCommand();
const workerNodeArgs = command.nodeArgs;

const redis = await startTestRedis();
const lag = monitorEventLoopDelay({ resolution: 20 });
lag.enable();
const stack = await startBenchStack({
  label: "worker-rss",
  redisUrl: redis.url,
  // Instant renders, always stereo. Every job asks for the same seed and tags, so with the
  // simulator's output cache the WAV is synthesized once and then streamed from a file: the
  // simulator (in this process) serves like a CDN instead of spending ~0.5 s of CPU per file.
  simConfig: { speed: 0, sample_rate: SAMPLE_RATE, max_concurrent: 100_000, output_cache_bytes: 256 * MiB },
  workerNodeArgs,
  workerEnv: {
    ...command.env,
    NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS ?? "",
    WORKER_CONCURRENCY: String(CONCURRENCY),
    PROVIDER_MAX_CONCURRENT: "100000",
    PROVIDER_RPS: "0",
    PROVIDER_POLL_MIN_MS: "1",
    PROVIDER_EXPECTED_SPEED: "1000000",
    // 46 MB per file is under the 200 MiB default; set explicitly so the bench does not depend on it.
    DOWNLOAD_MAX_BYTES: String(256 * MiB),
    ...(JSON.parse(process.env.BENCH_WORKER_ENV ?? "{}") as Record<string, string>),
  },
});
const headers = { authorization: `Bearer ${BENCH_API_KEY}` };

/** The measured run; throws when a job did not complete with the right file. */
async function measure(): Promise<void> {
  /** Every completed job, through the API's listing (as a client sees them). */
  async function completedJobs(): Promise<JobView[]> {
    const jobs: JobView[] = [];
    let cursor: string | null = null;
    do {
      const res = await fetch(`${stack.baseUrl}/v1/jobs?status=completed&limit=500${cursor ? `&cursor=${cursor}` : ""}`, { headers });
      if (res.status !== 200) throw new Error(`GET /v1/jobs answered ${res.status}`);
      const page = (await res.json()) as { data: JobView[]; next_cursor: string | null };
      jobs.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    return jobs;
  }

  const config = (await (await fetch(`${stack.simulator.origin}/__sim/config`)).json()) as { sample_rate: number; speed: number };
  if (config.sample_rate !== SAMPLE_RATE || config.speed !== 0) throw new Error(`simulator config not applied: ${JSON.stringify(config)}`);

  const worker = await stack.startWorker();
  await sleep(1_000); // let start-up settle (first reconciliation pass, connections)
  const start = await processMemory(worker.pid);

  // Sample the worker's memory, and (less often) how many jobs have completed, while the jobs run.
  const samples: { t: number; rss: number; anon: number; file: number; completed: number; lagMs: number }[] = [];
  let completed = 0;
  let sampling = true;
  const t0 = performance.now();
  const sampler = (async () => {
    while (sampling) {
      const m = await processMemory(worker.pid).catch(() => null); // gone: the wait below reports the exit
      if (m === null) break;
      samples.push({ t: performance.now() - t0, rss: m.rss, anon: m.anon, file: m.file, completed, lagMs: lag.max / 1e6 });
      await sleep(SAMPLE_MS);
    }
  })();
  const counter = (async () => {
    while (sampling) {
      // A slow answer is retried at the next tick (the count only tags samples with a phase).
      completed = await stack.countCompleted().catch(() => completed);
      await sleep(500);
    }
  })();

  /** `promise`, unless the worker exits first. */
  function whileWorkerLives<T>(promise: Promise<T>): Promise<T> {
    const died = worker.exited.then((exit) => {
      throw new Error(`the worker exited (code ${exit.code}, signal ${exit.signal}):\n${worker.output()}`);
    });
    return Promise.race([promise, died]);
  }

  await stack.submit(JOBS, { duration: SECONDS, seed: 1, tags: "bench, 100 BPM" });
  await whileWorkerLives(waitFor(async () => (completed >= JOBS ? true : undefined), { timeoutMs: 10 * 60_000, intervalMs: 100, message: `${JOBS} jobs to complete` }));
  const generateSeconds = (performance.now() - t0) / 1000;
  // Waveform peaks (made as the WAV is stored, or by a finish run) are worker work too: wait for them.
  await whileWorkerLives(
    waitFor(async () => ((await completedJobs()).every((j) => j.output?.waveform_url) ? true : undefined), {
      timeoutMs: 5 * 60_000,
      intervalMs: 500,
      message: "every job's waveform peaks",
    }),
  );
  const totalSeconds = (performance.now() - t0) / 1000;
  sampling = false;
  await Promise.all([sampler, counter]);
  const end = await processMemory(worker.pid);
  if (process.env.BENCH_WORKER_RSS_TIMELINE) {
    for (const s of samples.filter((_, i) => i % 10 === 0)) {
      console.error(`t=${(s.t / 1000).toFixed(1)}s rss=${mb(s.rss)} anon=${mb(s.anon)} file=${mb(s.file)} completed=${s.completed} lagmax=${s.lagMs.toFixed(0)}ms`);
    }
  }

  // Every job completed, with a 48 kHz stereo file of the right size (as recorded, and as stored).
  const jobs = await completedJobs();
  if (jobs.length !== JOBS) throw new Error(`expected ${JOBS} completed jobs, the API lists ${jobs.length}`);
  const wrong: string[] = [];
  for (const job of jobs) {
    if (job.output?.bytes !== EXPECTED_BYTES || job.output.duration_seconds !== SECONDS) {
      wrong.push(`${job.id}: recorded ${job.output?.bytes} bytes, ${job.output?.duration_seconds} s`);
      continue;
    }
    const path = join(stack.env.DATA_DIR!, "jobs", job.id, "original.wav");
    const onDisk = (await stat(path)).size;
    const probe = await probeAudioFile(path);
    if (onDisk !== EXPECTED_BYTES || probe.sampleRate !== SAMPLE_RATE || probe.channels !== CHANNELS) {
      wrong.push(`${job.id}: ${onDisk} bytes on disk, ${probe.sampleRate} Hz, ${probe.channels} channels`);
    }
  }
  if (wrong.length > 0) throw new Error(`${wrong.length} stored outputs are not ${EXPECTED_BYTES}-byte 48 kHz stereo WAVs: ${wrong.slice(0, 5).join("; ")}`);

  // Flatness over the steady phase: from the first completion (all 20 slots busy and the first
  // finish runs started) until fewer than 20 jobs were left (the queue draining).
  const steady = samples.filter((s) => s.completed >= 1 && s.completed <= JOBS - CONCURRENCY);
  if (steady.length < 30) throw new Error(`only ${steady.length} samples in the steady phase; raise BENCH_WORKER_RSS_JOBS`);
  const third = Math.floor(steady.length / 3);
  const firstThird = mean(steady.slice(0, third).map((s) => s.rss));
  const lastThird = mean(steady.slice(-third).map((s) => s.rss));
  const growth = lastThird - firstThird;
  const sampledPeak = Math.max(...samples.map((s) => s.rss));

  const details = {
    jobs: JOBS,
    jobs_completed: jobs.length,
    concurrency: CONCURRENCY,
    output_bytes: EXPECTED_BYTES,
    seconds_to_complete: Number(generateSeconds.toFixed(1)),
    seconds_with_waveforms: Number(totalSeconds.toFixed(1)),
    samples: samples.length,
    steady_samples: steady.length,
    rss_start_mb: mb(start.rss),
    rss_end_mb: mb(end.rss),
    sampled_peak_rss_mb: mb(sampledPeak),
    mean_rss_first_third_mb: mb(firstThird),
    mean_rss_last_third_mb: mb(lastThird),
    rss_anon_end_mb: mb(end.anon),
    rss_file_end_mb: mb(end.file),
    bench_process_event_loop_lag_max_ms: Number((lag.max / 1e6).toFixed(0)),
    measured: "/proc/<pid>/status of the worker process (services/worker/src/main.ts)",
    worker_command: describeCommand(command, "services/worker/src/main.ts"),
  };
  report({
    name: "worker peak RSS streaming 240 s 48 kHz stereo WAVs at concurrency 20",
    value: mb(end.peak),
    unit: "MB",
    baseline: mb(start.rss),
    ratio: null,
    goal: `≤ ${GOAL_PEAK_MB} MB`,
    met: end.peak <= GOAL_PEAK_MB * MiB,
    details,
  });
  report({
    name: "worker RSS growth over the run (mean of last third − first third)",
    value: mb(growth),
    unit: "MB",
    baseline: mb(firstThird),
    ratio: Number((lastThird / firstThird).toFixed(3)),
    goal: `flat: last third within ${FLAT_TOLERANCE * 100}% of the first`,
    met: Math.abs(growth) <= FLAT_TOLERANCE * firstThird,
    details,
  });
}

let failure: unknown = null;
try {
  await measure();
} catch (err) {
  failure = err;
}
// Also after a failure: the data dir holds gigabytes of WAVs.
await stack.close();
await redis.stop();
if (failure !== null) {
  console.error(failure);
  process.exit(1);
}
process.exit(0);
