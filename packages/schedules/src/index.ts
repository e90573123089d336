export { parseCron, CronSyntaxError, type CronSchedule } from "./cron.ts";
export { canonicalTimezone, formatLocal, resolveLocal, type LocalDateTime, type Resolution } from "./zoned-time.ts";
export {
  DST_POLICY,
  nextCronRun,
  nextRunAfter,
  nextRunTimes,
  scheduleRepeatStrategy,
  toFireTimes,
  type FireTime,
  type Timing,
} from "./next-runs.ts";
export {
  applyPatch,
  MAX_EVERY_SECONDS,
  OVERLAP_POLICIES,
  scheduleDefinitionSchema,
  schedulePatchSchema,
  SCHEDULE_BUDGET_PERIODS,
  SEED_STRATEGIES,
  specToDefinition,
  type OverlapPolicy,
  type SchedulePatch,
  type ScheduleSpec,
  type SeedStrategy,
} from "./schedule-schema.ts";
export {
  budgetPeriodOf,
  CATCH_UP_GRACE_MS,
  lateness,
  occurrenceJobId,
  occurrenceKey,
  runInput,
  runParameters,
  timingOf,
  type Trigger,
} from "./occurrence.ts";
export {
  createScheduleStore,
  CLAIM_TTL_SECONDS,
  HISTORY_LENGTH,
  OUTCOMES,
  type AuditRow,
  type Claim,
  type ClaimedJob,
  type Outcome,
  type ScheduleRecord,
  type ScheduleStore,
} from "./schedule-store.ts";
export { fireOccurrence, type FireRequest, type FireResult, type OccurrenceDeps } from "./fire-occurrence.ts";
export {
  createScheduleQueue,
  reconcileSchedulers,
  repeatOptionsOf,
  SCHEDULE_JOB_NAME,
  syncScheduler,
  type ReconcileDeps,
  type ScheduleQueue,
} from "./scheduler-sync.ts";
export { describeRow, toAuditRowView, toScheduleView, type AuditRowView, type ScheduleView } from "./schedule-view.ts";
