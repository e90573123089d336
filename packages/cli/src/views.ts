import type { Job, JobStatus } from "@acebatch/contracts";
import { formatUsd, table } from "./output.ts";

/** A job as `GET /v1/jobs/{id}` returns it. */
export type JobView = Job & { cancel_requested?: boolean };

/** A batch as spec/API.md describes it; fields are optional because the client must outlive additions. */
export interface BatchView {
  id: string;
  name?: string | null;
  status: string;
  total?: number;
  accepted?: number;
  rejected?: number;
  errors?: { row?: number; column?: string | null; message?: string }[];
  estimated_cost_usd?: number | null;
  spent_usd?: number | null;
  counts?: Partial<Record<JobStatus, number>>;
  created_at?: string;
  finished_at?: string | null;
  webhook_url?: string | null;
}

export interface ScheduleView {
  id: string;
  name?: string;
  cron?: string | null;
  every_seconds?: number | null;
  timezone?: string;
  model?: string;
  enabled?: boolean;
  overlap?: string;
  seed_strategy?: string;
  tags_rotation?: string[] | null;
  /** Next fire times, in the schedule's timezone and in UTC. */
  next_runs?: { local: string; utc: string }[];
  /** One audit row per occurrence, newest first. */
  last_runs?: { job_id?: string | null; scheduled_at?: string; fired_at?: string; outcome?: string; caught_up?: boolean }[];
}

export interface BudgetView {
  limit_usd: number | null;
  period: string;
  timezone?: string;
  spent_usd?: number;
  reserved_usd?: number;
  remaining_usd?: number | null;
  resets_at?: string | null;
}

const FINAL_JOB_STATUSES = new Set(["completed", "failed", "cancelled"]);

export function isFinalJob(job: { status: string }): boolean {
  return FINAL_JOB_STATUSES.has(job.status);
}

const FINAL_BATCH_STATUSES = new Set(["completed", "failed", "cancelled", "partially_completed", "completed_with_errors", "done", "finished"]);

/** A batch is final once it has a finish time or a terminal status (the spec leaves the status names open). */
export function isFinalBatch(batch: BatchView): boolean {
  return Boolean(batch.finished_at) || FINAL_BATCH_STATUSES.has(batch.status);
}

/** done/total of a batch from its per-status counts. */
export function batchProgress(batch: BatchView): { done: number; total: number; failed: number; cancelled: number; completed: number } {
  const c = batch.counts ?? {};
  const completed = c.completed ?? 0;
  const failed = c.failed ?? 0;
  const cancelled = c.cancelled ?? 0;
  const sum = Object.values(c).reduce<number>((a, b) => a + (b ?? 0), 0);
  const total = batch.accepted ?? batch.total ?? sum;
  return { done: completed + failed + cancelled, total: Math.max(total, sum), failed, cancelled, completed };
}

export function jobErrorLine(job: JobView): string {
  const e = job.error;
  if (!e) return `job ${job.id} ended ${job.status}`;
  return `job ${job.id} ended ${job.status}: ${e.code} (exit class ${e.exit_class ?? "-"}): ${e.message}`;
}

export function jobSummaryLine(job: JobView): string {
  const parts = [job.id, job.status, job.model];
  if (job.output) parts.push(`${job.output.duration_seconds} s ${job.output.content_type}`);
  parts.push(job.cost_usd !== null ? formatUsd(job.cost_usd) : `est ${formatUsd(job.estimated_cost_usd)}`);
  return parts.join("  ");
}

export function jobDetails(job: JobView): string[] {
  const lines = [`${job.id}  ${job.status}${job.cancel_requested && !isFinalJob(job) ? " (cancel requested)" : ""}`];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(10)}${v}`);
  row("model", job.model);
  row("input", JSON.stringify(job.input));
  if (job.batch_id) row("batch", job.batch_id);
  if (job.schedule_id) row("schedule", job.schedule_id);
  const provider = [job.provider?.status, job.provider?.queue_position != null ? `queue position ${job.provider.queue_position}` : null]
    .filter(Boolean)
    .join(", ");
  if (job.provider?.request_id) row("provider", `${job.provider.request_id}${provider ? ` (${provider})` : ""}`);
  row("cost", `${formatUsd(job.cost_usd)} (estimated ${formatUsd(job.estimated_cost_usd)})`);
  if (job.output) {
    row("output", `${job.output.duration_seconds} s ${job.output.content_type}, ${job.output.bytes} bytes, seed ${job.output.seed ?? "-"}`);
    row("audio", job.output.url);
  }
  if (job.error) row("error", `${job.error.code} (exit class ${job.error.exit_class ?? "-"}): ${job.error.message}`);
  if (job.metadata && Object.keys(job.metadata).length > 0) row("metadata", JSON.stringify(job.metadata));
  row("created", job.created_at);
  if (job.started_at) row("started", job.started_at);
  if (job.finished_at) row("finished", job.finished_at);
  return lines;
}

export function jobTable(jobs: JobView[]): string[] {
  if (jobs.length === 0) return ["no jobs"];
  return table(
    ["ID", "STATUS", "MODEL", "COST", "CREATED"],
    jobs.map((j) => [j.id, j.status, j.model, formatUsd(j.cost_usd ?? j.estimated_cost_usd), j.created_at]),
  );
}

/** `[##########..........]` for done/total. */
export function bar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

export function batchDetails(batch: BatchView): string[] {
  const p = batchProgress(batch);
  const lines = [`${batch.id}  ${batch.status}${batch.name ? `  "${batch.name}"` : ""}`];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(10)}${v}`);
  if (batch.total !== undefined) {
    row("rows", `${batch.total} total, ${batch.accepted ?? "-"} accepted, ${batch.rejected ?? 0} rejected`);
  }
  if (batch.counts) {
    row("progress", `${bar(p.done, p.total)} ${p.done}/${p.total}`);
    row("counts", Object.entries(batch.counts).map(([k, v]) => `${k} ${v}`).join(", "));
  }
  row("cost", `spent ${formatUsd(batch.spent_usd)} of estimated ${formatUsd(batch.estimated_cost_usd)}`);
  for (const e of batch.errors ?? []) lines.push(`  row ${e.row ?? "?"}${e.column ? ` / ${e.column}` : ""}: ${e.message ?? "invalid"}`);
  if (batch.webhook_url) row("webhook", batch.webhook_url);
  if (batch.created_at) row("created", batch.created_at);
  if (batch.finished_at) row("finished", batch.finished_at);
  return lines;
}

export function scheduleDetails(s: ScheduleView): string[] {
  const lines = [`${s.id}  ${s.enabled === false ? "disabled" : "enabled"}${s.name ? `  "${s.name}"` : ""}`];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(10)}${v}`);
  row("when", s.cron ? `cron "${s.cron}"` : `every ${s.every_seconds ?? "?"} s`);
  if (s.timezone) row("timezone", s.timezone);
  if (s.model) row("model", s.model);
  if (s.seed_strategy) row("seed", s.seed_strategy);
  if (s.tags_rotation?.length) row("rotation", s.tags_rotation.join(" | "));
  if (s.overlap) row("overlap", s.overlap);
  for (const at of s.next_runs ?? []) row("next run", `${at.local}  (${at.utc})`);
  for (const r of s.last_runs ?? []) {
    row("last run", [r.scheduled_at ?? r.fired_at, r.outcome, r.caught_up ? "(catch-up)" : "", r.job_id].filter(Boolean).join("  "));
  }
  return lines;
}

export function scheduleTable(schedules: ScheduleView[]): string[] {
  if (schedules.length === 0) return ["no schedules"];
  return table(
    ["ID", "NAME", "WHEN", "MODEL", "NEXT RUN"],
    schedules.map((s) => [
      s.id,
      s.name ?? "",
      s.cron ? s.cron : `every ${s.every_seconds ?? "?"}s`,
      s.model ?? "",
      s.enabled === false ? "(disabled)" : (s.next_runs?.[0]?.local ?? ""),
    ]),
  );
}

export function budgetDetails(b: BudgetView): string[] {
  const lines = [`budget  ${b.limit_usd === null ? "no limit" : `${formatUsd(b.limit_usd)} per ${b.period === "none" ? "lifetime" : b.period}`}`];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(10)}${v}`);
  row("spent", formatUsd(b.spent_usd));
  row("reserved", formatUsd(b.reserved_usd));
  row("remaining", b.remaining_usd === null || b.remaining_usd === undefined ? "unlimited" : formatUsd(b.remaining_usd));
  if (b.timezone) row("timezone", b.timezone);
  if (b.resets_at) row("resets at", b.resets_at);
  return lines;
}
