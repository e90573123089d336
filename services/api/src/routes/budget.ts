import { canonicalTimezone } from "@acebatch/ledger";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { BudgetService } from "../budget-service.ts";

export const budgetUpdateSchema = z.strictObject({
  limit_usd: z.number({ error: "limit_usd must be a number of dollars or null (no limit)" }).min(0, "limit_usd must be 0 or more").max(10_000_000).nullable(),
  period: z.enum(["none", "day", "month"], { error: 'period must be "none", "day" or "month"' }).default("none"),
  timezone: z
    .string()
    .default("UTC")
    .refine((tz) => {
      try {
        canonicalTimezone(tz);
        return true;
      } catch {
        return false;
      }
    }, "timezone must be an IANA time zone such as UTC or America/New_York"),
});

const spendQuery = z.object({ group_by: z.enum(["model", "day", "batch"], { error: "group_by must be model, day or batch" }).default("model") });

/** GET/PUT /v1/budget and GET /v1/spend. */
export async function budgetRoutes(app: FastifyInstance, { budget }: { budget: BudgetService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get("/v1/budget", { config: { scope: "jobs:read" } }, async () => budget.get());
  r.put("/v1/budget", { config: { scope: "budget:admin" }, schema: { body: budgetUpdateSchema } }, async (request) => {
    const view = await budget.set(request.body);
    request.log.info({ limitUsd: view.limit_usd, period: view.period, timezone: view.timezone }, "budget updated");
    return view;
  });
  r.get("/v1/spend", { config: { scope: "jobs:read" }, schema: { querystring: spendQuery } }, async (request) => budget.spend(request.query.group_by));
}
