import { microUsdToUsd, type Metadata } from "@acebatch/contracts";
import { DST_POLICY, nextRunTimes, toFireTimes, type FireTime } from "./next-runs.ts";
import { budgetPeriodOf, timingOf } from "./occurrence.ts";
import type { AuditRow, Outcome, ScheduleRecord } from "./schedule-store.ts";

/** One audit row as the API shows it. */
export interface AuditRowView {
  scheduled_at: string;
  fired_at: string;
  trigger: AuditRow["trigger"];
  outcome: Outcome;
  job_id: string | null;
  run_number: number | null;
  caught_up: boolean;
  late_seconds: number;
  tags: string;
  seed: number;
  estimated_cost_usd: number | null;
  message: string;
}

/** A schedule as the API shows it (dollars at the edge). */
export interface ScheduleView {
  id: string;
  name: string;
  cron: string | null;
  every_seconds: number | null;
  timezone: string;
  model: string;
  input: Record<string, unknown>;
  seed_strategy: string;
  tags_rotation: string[] | null;
  overlap: string;
  enabled: boolean;
  max_cost_per_run_usd: number | null;
  max_cost_per_period_usd: number | null;
  budget_period: string | null;
  period: { key: string; estimated_spent_usd: number; resets_at: string } | null;
  webhook_url: string | null;
  metadata: Metadata;
  rotation_index: number;
  runs_total: number;
  occurrences_total: number;
  last_job_id: string | null;
  last_run_at: string | null;
  next_runs: FireTime[];
  last_runs: AuditRowView[];
  dst_policy: string;
  created_at: string;
  updated_at: string;
}

const usd = (micro: number | null | undefined) => (micro === null || micro === undefined ? null : microUsdToUsd(micro));

/** A sentence saying what an occurrence did, for people reading the history. */
export function describeRow(row: AuditRow): string {
  const late = row.caught_up ? ` (a catch-up for runs missed while nothing was running; ${Math.round(row.late_ms / 1_000)} s late)` : "";
  switch (row.outcome) {
    case "enqueued":
      return `run ${row.run_number} enqueued as ${row.job_id}`;
    case "caught_up":
      return `run ${row.run_number} enqueued as ${row.job_id}${late}`;
    case "skipped_overlap":
      return `skipped: the previous run ${row.blocking_job_id ?? ""} was still ${row.blocking_job_status ?? "in flight"} (overlap: skip)${late}`;
    case "skipped_disabled":
      return "skipped: the schedule is disabled";
    case "skipped_superseded":
      return "skipped: a later occurrence had already been decided when this one was processed (at most one catch-up run)";
    case "skipped_budget": {
      const estimate = usd(row.estimated_cost_micro_usd);
      if (row.reason === "estimate_unknown") return "skipped: the run's cost cannot be estimated (source length unknown) and the schedule has a cost cap";
      if (row.reason === "per_period_cap") {
        return `skipped: estimated $${estimate} would take this period's spend ($${usd(row.period_spent_micro_usd ?? 0)}) past max_cost_per_period_usd`;
      }
      return `skipped: estimated $${estimate} exceeds max_cost_per_run_usd ($${usd(row.cap_micro_usd ?? null)})`;
    }
  }
}

export function toAuditRowView(row: AuditRow): AuditRowView {
  return {
    scheduled_at: row.scheduled_at,
    fired_at: row.fired_at,
    trigger: row.trigger,
    outcome: row.outcome,
    job_id: row.job_id,
    run_number: row.run_number,
    caught_up: row.caught_up,
    late_seconds: Math.round(row.late_ms) / 1_000,
    tags: row.tags,
    seed: row.seed,
    estimated_cost_usd: usd(row.estimated_cost_micro_usd),
    message: describeRow(row),
  };
}

/**
 * The API view of a schedule: next 5 fire times from `nowMs` (none while disabled), the audit rows
 * given (newest first), and the period's estimated spend when it has a period budget.
 */
export function toScheduleView(rec: ScheduleRecord, history: readonly AuditRow[], nowMs: number, periodSpentMicroUsd = 0): ScheduleView {
  const { spec } = rec;
  const period = spec.budget_period ? budgetPeriodOf(spec.budget_period, spec.timezone, nowMs) : null;
  return {
    id: rec.id,
    name: spec.name,
    cron: spec.cron,
    every_seconds: spec.every_seconds,
    timezone: spec.timezone,
    model: spec.model,
    input: spec.input,
    seed_strategy: spec.seed_strategy,
    tags_rotation: spec.tags_rotation,
    overlap: spec.overlap,
    enabled: spec.enabled,
    max_cost_per_run_usd: usd(spec.max_cost_per_run_micro_usd),
    max_cost_per_period_usd: usd(spec.max_cost_per_period_micro_usd),
    budget_period: spec.budget_period,
    period: period && { key: period.key, estimated_spent_usd: microUsdToUsd(periodSpentMicroUsd), resets_at: new Date(period.resetsAtMs).toISOString() },
    webhook_url: spec.webhook_url,
    metadata: spec.metadata,
    rotation_index: rec.rotation_index,
    runs_total: rec.runs_total,
    occurrences_total: rec.occurrences_total,
    last_job_id: rec.last_job_id,
    last_run_at: rec.last_run_at,
    next_runs: spec.enabled ? toFireTimes(spec.timezone, nextRunTimes(timingOf(spec, rec.anchor_ms), nowMs, 5)) : [],
    last_runs: history.map(toAuditRowView),
    dst_policy: DST_POLICY,
    created_at: rec.created_at,
    updated_at: rec.updated_at,
  };
}
