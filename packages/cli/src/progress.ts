import type { Output } from "./output.ts";
import { formatDuration, formatUsd } from "./output.ts";
import { bar, batchProgress, type BatchView, type JobView } from "./views.ts";

/** Shows a long wait: one line redrawn in place on a terminal, one line per change elsewhere. */
export interface ProgressDisplay {
  /** `key` identifies the state: off a terminal a line is printed only when it changes. */
  update(line: string, key: string): void;
  /** Leave the last drawn line on screen and move to a fresh one. */
  finish(): void;
}

const CLEAR_LINE = "\r\x1b[2K";

/** A progress display on stderr; silent under `--json` (stdout then holds only the final JSON). */
export function createProgress(out: Output): ProgressDisplay {
  if (out.json) return { update() {}, finish() {} };
  let lastKey: string | undefined;
  let drawn = false;
  if (out.isTTY) {
    return {
      update(line) {
        const width = Math.max(20, (out.stderr.columns || 100) - 1);
        const fitted = line.length > width ? `${line.slice(0, width - 1)}…` : line;
        out.writeErr(`${CLEAR_LINE}${fitted}`);
        drawn = true;
      },
      finish() {
        if (drawn) out.writeErr("\n");
        drawn = false;
      },
    };
  }
  return {
    update(line, key) {
      if (key === lastKey) return;
      lastKey = key;
      out.writeErr(`${line}\n`);
    },
    finish() {},
  };
}

/** `job_…  in_progress  provider in_queue, position 3  12s` and its change key. */
export function jobProgressLine(job: JobView, elapsedSeconds: number): { line: string; key: string } {
  const provider = job.provider ?? { status: null, queue_position: null };
  const parts = [job.id, job.status];
  if (provider.status) parts.push(`provider ${provider.status}`);
  if (provider.queue_position !== null && provider.queue_position !== undefined) parts.push(`queue position ${provider.queue_position}`);
  if (job.status === "waiting_budget") parts.push("(waiting for budget)");
  parts.push(formatDuration(elapsedSeconds));
  return { line: parts.join("  "), key: `${job.status}/${provider.status ?? ""}` };
}

/**
 * `bat_…  running  [########............] 8/20 40%  1 failed  $0.0120 of ~$0.0300  ETA 45s`.
 * Off a terminal it changes with the status and every tenth of progress, so logs stay short.
 */
export function batchProgressLine(batch: BatchView, etaSeconds: number | undefined): { line: string; key: string } {
  const p = batchProgress(batch);
  const pct = p.total > 0 ? Math.floor((p.done / p.total) * 100) : 0;
  const parts = [batch.id, batch.status, `${bar(p.done, p.total)} ${p.done}/${p.total} ${pct}%`];
  if (p.failed > 0) parts.push(`${p.failed} failed`);
  if (p.cancelled > 0) parts.push(`${p.cancelled} cancelled`);
  parts.push(`${formatUsd(batch.spent_usd ?? 0)} of ~${formatUsd(batch.estimated_cost_usd)}`);
  if (etaSeconds !== undefined && p.done < p.total) parts.push(`ETA ${formatDuration(etaSeconds)}`);
  return { line: parts.join("  "), key: `${batch.status}/${Math.floor(pct / 10)}` };
}

/** Estimates the time left from the completion rate observed since watching began. */
export class EtaEstimator {
  private first: { at: number; done: number } | undefined;

  /** Seconds left, or undefined until progress has been seen. */
  observe(done: number, total: number, nowMs: number): number | undefined {
    if (!this.first) {
      this.first = { at: nowMs, done };
      return undefined;
    }
    const progressed = done - this.first.done;
    const elapsed = (nowMs - this.first.at) / 1000;
    if (progressed <= 0 || elapsed <= 0) return undefined;
    return ((total - done) * elapsed) / progressed;
  }
}
