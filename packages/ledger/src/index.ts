export { createLedger, type Ledger, type LedgerOptions } from "./ledger.ts";
export { GLOBAL_SCOPE, parseScopeKey, scopeKey, type BudgetScope } from "./scopes.ts";
export { BUDGET_PERIODS, canonicalTimezone, periodWindow, type BudgetPeriod, type PeriodWindow } from "./periods.ts";
export {
  LedgerConflictError,
  MAX_MICRO_USD,
  NO_BATCH_KEY,
  type BudgetSettings,
  type BudgetStatus,
  type ReservationView,
  type ReserveResult,
  type SettleFacts,
  type SettleResult,
  type SpendGroup,
  type SpendRow,
  type SpendTotals,
  type ThresholdCrossing,
} from "./types.ts";
