import type { BudgetScope, Ledger } from "@acebatch/ledger";
import type { ApiKeyRecord, ApiKeyStore } from "@acebatch/queue";
import { toBudgetView } from "../budget-service.ts";
import { notFound } from "../errors.ts";

export interface BudgetInput {
  limit_usd: number | null;
  period: "none" | "day" | "month";
  timezone: string;
}

export interface CreateKeyInput {
  name: string;
  scopes: readonly string[];
  budget?: BudgetInput;
  rate_limit_per_minute?: number;
}

export interface KeysServiceDeps {
  store: ApiKeyStore;
  ledger: Ledger;
  /** Called after a key's budget changed, so jobs waiting for money look again (budget.wakeWaitingJobs). */
  onBudgetChanged?: () => Promise<unknown>;
}

const keyScope = (id: string): BudgetScope => ({ kind: "key", id });

// Floor, never round up: a limit must not grow by conversion (as for the global budget).
const limitMicroUsd = (usd: number | null) => (usd === null ? null : Math.floor(usd * 1_000_000 + 1e-6));

/** API keys for operators: create (secret shown once), list, revoke, per-key budgets on the ledger. */
export function createKeysService({ store, ledger, onBudgetChanged }: KeysServiceDeps) {
  async function view(record: ApiKeyRecord) {
    return {
      id: record.id,
      name: record.name,
      scopes: record.scopes,
      key_hint: record.key_hint,
      rate_limit_per_minute: record.rate_limit_per_minute,
      budget: record.has_budget ? toBudgetView(await ledger.getBudget(keyScope(record.id))) : null,
      created_at: record.created_at,
      last_used_at: record.last_used_at,
      revoked_at: record.revoked_at,
    };
  }

  async function setBudget(id: string, budget: BudgetInput): Promise<void> {
    await ledger.setBudget(keyScope(id), { limitMicroUsd: limitMicroUsd(budget.limit_usd), period: budget.period, timezone: budget.timezone });
    await store.setHasBudget(id, true);
    await onBudgetChanged?.();
  }

  async function get(id: string): Promise<ApiKeyRecord> {
    const record = await store.get(id);
    if (!record) throw notFound("API key", id);
    return record;
  }

  return {
    /** Create a key; the returned `key` is the only time the secret is ever shown. */
    async create(input: CreateKeyInput) {
      const { record, secret } = await store.create({
        name: input.name,
        scopes: [...new Set(input.scopes)],
        rate_limit_per_minute: input.rate_limit_per_minute ?? null,
      });
      if (input.budget) {
        try {
          await setBudget(record.id, input.budget);
        } catch (err) {
          // Nobody will ever see this key's secret: do not leave a usable key without its budget.
          await store.revoke(record.id).catch(() => undefined);
          throw err;
        }
      }
      return { ...(await view(await get(record.id))), key: secret };
    },
    async list() {
      return { data: await Promise.all((await store.list()).map(view)) };
    },
    async get(id: string) {
      return view(await get(id));
    },
    async revoke(id: string) {
      const record = await store.revoke(id);
      if (!record) throw notFound("API key", id);
      return view(record);
    },
    async setBudget(id: string, budget: BudgetInput) {
      await get(id);
      await setBudget(id, budget);
      return view(await get(id));
    },
  };
}

export type KeysService = ReturnType<typeof createKeysService>;
