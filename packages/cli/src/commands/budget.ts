import { choice, num, requireStr, str, type CommandSpec } from "../command.ts";
import { EXIT, usageError } from "../exit-codes.ts";
import { formatUsd, table } from "../output.ts";
import { budgetDetails, type BudgetView } from "../views.ts";

const PERIODS = ["none", "day", "month"] as const;

const getBudget: CommandSpec = {
  path: ["budget", "get"],
  summary: "show the budget: limit, spent, reserved, remaining",
  positionals: [],
  options: {},
  async run(ctx) {
    const { data } = await ctx.api.json<BudgetView>("GET", "/v1/budget");
    ctx.out.result(data, () => budgetDetails(data));
    return EXIT.ok;
  },
};

const setBudget: CommandSpec = {
  path: ["budget", "set"],
  summary: "set the spending limit",
  positionals: [],
  options: {
    "limit-usd": { type: "string", value: "X", description: 'limit in dollars per period, or "none" for no limit (required)' },
    period: { type: "string", value: "none|day|month", description: "budget period (default: keep the current one)" },
    timezone: { type: "string", value: "TZ", description: "time zone in which days and months reset (default: keep)" },
  },
  notes: ["Example: acebatch budget set --limit-usd 5 --period day --timezone Europe/Berlin"],
  async run(ctx, { values }) {
    const rawLimit = requireStr(values, "limit-usd");
    const limit = rawLimit === "none" ? null : num(values, "limit-usd", { min: 0 });
    if (limit === undefined) throw usageError("missing --limit-usd");
    const period = choice(values, "period", PERIODS);
    let timezone = str(values, "timezone");
    let currentPeriod: string | undefined;
    if (period === undefined || timezone === undefined) {
      // PUT replaces the whole budget: keep what the user did not mention.
      const { data: current } = await ctx.api.json<BudgetView>("GET", "/v1/budget");
      currentPeriod = current?.period;
      timezone ??= current?.timezone ?? "UTC";
    }
    const body = { limit_usd: limit, period: period ?? currentPeriod ?? "none", timezone };
    const { data } = await ctx.api.json<BudgetView>("PUT", "/v1/budget", { json: body });
    ctx.out.result(data, () => budgetDetails(data));
    return EXIT.ok;
  },
};

interface SpendRow {
  key: string;
  jobs: number;
  seconds: number;
  cost_usd: number;
}

const spend: CommandSpec = {
  path: ["budget", "spend"],
  summary: "spend grouped by model, day or batch",
  positionals: [],
  options: { "group-by": { type: "string", value: "model|day|batch", description: "grouping (default model)" } },
  async run(ctx, { values }) {
    const groupBy = choice(values, "group-by", ["model", "day", "batch"] as const) ?? "model";
    const { data } = await ctx.api.json<{ data: SpendRow[] } | SpendRow[]>("GET", "/v1/spend", { query: { group_by: groupBy } });
    const rows = Array.isArray(data) ? data : (data?.data ?? []);
    ctx.out.result(data, () =>
      rows.length === 0
        ? "no spend yet"
        : table(
            [groupBy.toUpperCase(), "JOBS", "SECONDS", "COST"],
            rows.map((r) => [r.key, String(r.jobs), String(r.seconds), formatUsd(r.cost_usd)]),
          ),
    );
    return EXIT.ok;
  },
};

export const budgetCommands: CommandSpec[] = [getBudget, setBudget, spend];
