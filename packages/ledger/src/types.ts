import type { BudgetPeriod } from "./periods.ts";
import type { BudgetScope } from "./scopes.ts";

/** A budget as an operator sets it. `limitMicroUsd: null` = no limit (spend is still counted). */
export interface BudgetSettings {
  limitMicroUsd: number | null;
  period: BudgetPeriod;
  /** IANA timezone the calendar periods follow. */
  timezone: string;
}

/** A budget and its current period's money, all in integer micro-dollars. */
export interface BudgetStatus extends BudgetSettings {
  spentMicroUsd: number;
  reservedMicroUsd: number;
  /** `limit − spent − reserved`, never below 0; null when there is no limit. */
  remainingMicroUsd: number | null;
  periodKey: string;
  /** ISO-8601; null for period `none`. */
  periodStartsAt: string | null;
  /** ISO-8601 start of the next period; null for period `none`. */
  resetsAt: string | null;
}

export type ReserveResult =
  | {
      ok: true;
      /** A live reservation already existed: nothing was added. */
      alreadyReserved: boolean;
      /** The job was already settled: nothing was reserved, do not submit it again. */
      alreadySettled: boolean;
    }
  | {
      ok: false;
      /** The first scope (in the order given) the amount does not fit in. */
      blockedBy: BudgetScope;
      limitMicroUsd: number;
      spentMicroUsd: number;
      reservedMicroUsd: number;
      /** When that scope's period starts over (ISO-8601), or null if it never does. */
      resetsAt: string | null;
    };

/** What happened to a job, recorded with its real cost. */
export interface SettleFacts {
  model: string;
  /** Seconds of audio produced. */
  seconds: number;
  batchId?: string | null;
  scheduleId?: string | null;
  /** When the provider finished; its UTC date keys the by-day report. Defaults to now. */
  finishedAt?: Date;
  /** Scopes charged when the job has no reservation at all; defaults to global + its batch + its schedule. */
  scopes?: BudgetScope[];
}

export interface ThresholdCrossing {
  scope: BudgetScope;
  percent: 50 | 80 | 100;
}

export interface SettleResult {
  /** False when the job had already been settled (nothing changed). */
  settled: boolean;
  thresholdsCrossed: ThresholdCrossing[];
}

export type SpendGroup = "model" | "day" | "batch";

/** One row of the spend report. `seconds` is exact to the millisecond. */
export interface SpendRow {
  key: string;
  jobs: number;
  seconds: number;
  costMicroUsd: number;
}

export type SpendTotals = Omit<SpendRow, "key">;

/**
 * The ledger's record of one job. A settled record keeps only its state and `actualMicroUsd` (the
 * money is in the counters and spend rows by then), so for it every other field is null and
 * `scopes` is empty.
 */
export interface ReservationView {
  jobId: string;
  state: "reserved" | "released" | "settled";
  /** The amount reserved; null once settled. */
  amountMicroUsd: number | null;
  /** The real cost; set only once settled. */
  actualMicroUsd: number | null;
  attempt: number | null;
  /** Each scope with the period key its money sits in; empty once settled. */
  scopes: { scope: BudgetScope; periodKey: string }[];
  reservedAt: string | null;
  releasedAt: string | null;
  /** No longer kept: null (only records settled before that still carry it). */
  settledAt: string | null;
}

/** A reserve for an attempt older than the job's last recorded one: a stale replay, refused. */
export class LedgerConflictError extends Error {
  readonly code = "ledger_conflict";
  constructor(message: string) {
    super(message);
    this.name = "LedgerConflictError";
  }
}

/** The row key of jobs without a batch in the by-batch report. */
export const NO_BATCH_KEY = "none";

/** Largest amount or limit accepted, in micro-dollars ($10M): keeps Lua's double arithmetic exact. */
export const MAX_MICRO_USD = 10_000_000_000_000;
