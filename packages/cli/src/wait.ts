import type { CommandContext } from "./command.ts";
import { CliError, EXIT } from "./exit-codes.ts";
import { batchProgressLine, createProgress, EtaEstimator, jobProgressLine } from "./progress.ts";
import { batchProgress, isFinalBatch, isFinalJob, type BatchView, type JobView } from "./views.ts";

/** Longest pause between two polls, in milliseconds. */
const MAX_POLL_MS = 5_000;
/** How long polling keeps retrying through 429s, 5xx and an unreachable API before giving up, in milliseconds. */
const TRANSIENT_WINDOW_MS = 60_000;

interface PollOptions<T> {
  /** `job job_…` / `batch bat_…`, for messages. */
  what: string;
  /** The command that shows the thing later, for "it keeps running" messages. */
  followUp: string;
  fetch: () => Promise<T>;
  isFinal: (value: T) => boolean;
  /** Shows the state and returns its key; the poll interval starts over when the key changes. */
  show: (value: T) => string;
  /** Called before a transient failure is retried. */
  onRetry: (err: CliError) => void;
}

/**
 * Poll until final with a gentle backoff (pollMs, ×1.5 per unchanged poll, at most 5 s). Unlike
 * `runcomfy run`, a 429/5xx/unreachable API while polling is retried (Retry-After honoured) for up
 * to a minute: the job keeps running server-side, and exiting 75 would only abandon it.
 */
async function poll<T>(ctx: CommandContext, initial: T, options: PollOptions<T>): Promise<T> {
  let value = initial;
  let lastKey = options.show(value);
  let delay = ctx.pollMs;
  let failingSince: number | undefined;
  const interrupted = () =>
    new CliError(EXIT.failure, `stopped waiting; ${options.what} keeps running: follow it with \`${options.followUp}\``, { code: "interrupted" });
  while (!options.isFinal(value)) {
    await ctx.sleep(delay);
    if (ctx.signal?.aborted) throw interrupted();
    try {
      value = await options.fetch();
      failingSince = undefined;
    } catch (err) {
      // Ctrl-C may land while a poll is on the wire: say how to follow the job, not "aborted".
      if (ctx.signal?.aborted) throw interrupted();
      const transient = err instanceof CliError && (err.exitCode === EXIT.tempFail || err.exitCode === EXIT.unavailable);
      if (!transient) throw err;
      failingSince ??= Date.now();
      if (Date.now() - failingSince > TRANSIENT_WINDOW_MS) {
        throw new CliError(err.exitCode, `${err.message} (gave up waiting for ${options.what} after ${TRANSIENT_WINDOW_MS / 1000} s of failures; it keeps running: \`${options.followUp}\`)`, {
          code: err.code,
          status: err.status,
          body: err.body,
        });
      }
      options.onRetry(err);
      delay = err.retryAfterSeconds !== undefined ? Math.max(err.retryAfterSeconds * 1000, ctx.pollMs) : Math.min(delay * 2, MAX_POLL_MS);
      continue;
    }
    const key = options.show(value);
    delay = key !== lastKey ? ctx.pollMs : Math.min(Math.round(delay * 1.5), MAX_POLL_MS);
    lastKey = key;
  }
  return value;
}

/** Wait for a job to end (completed, failed or cancelled), showing its progress on stderr. */
export async function waitForJob(ctx: CommandContext, job: JobView): Promise<JobView> {
  const started = Date.now();
  const progress = createProgress(ctx.out);
  const path = `/v1/jobs/${encodeURIComponent(job.id)}`;
  try {
    return await poll(ctx, job, {
      what: `job ${job.id}`,
      followUp: `acebatch jobs get ${job.id}`,
      fetch: async () => (await ctx.api.json<JobView>("GET", path)).data,
      isFinal: isFinalJob,
      show: (j) => {
        const { line, key } = jobProgressLine(j, (Date.now() - started) / 1000);
        progress.update(line, key);
        return key;
      },
      onRetry: (err) => {
        progress.finish();
        ctx.out.info(`still waiting for job ${job.id}: ${err.message}`);
      },
    });
  } finally {
    progress.finish();
  }
}

/** Wait for a batch to finish, drawing a progress bar (done/total, spend, ETA) on stderr. */
export async function waitForBatch(ctx: CommandContext, batch: BatchView): Promise<BatchView> {
  const progress = createProgress(ctx.out);
  const eta = new EtaEstimator();
  const path = `/v1/batches/${encodeURIComponent(batch.id)}`;
  try {
    return await poll(ctx, batch, {
      what: `batch ${batch.id}`,
      followUp: `acebatch batch get ${batch.id}`,
      fetch: async () => (await ctx.api.json<BatchView>("GET", path)).data,
      isFinal: isFinalBatch,
      show: (b) => {
        const p = batchProgress(b);
        const { line, key } = batchProgressLine(b, eta.observe(p.done, p.total, Date.now()));
        progress.update(line, key);
        return key;
      },
      onRetry: (err) => {
        progress.finish();
        ctx.out.info(`still waiting for batch ${batch.id}: ${err.message}`);
      },
    });
  } finally {
    progress.finish();
  }
}
