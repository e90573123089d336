import { idCursorSchema } from "@acebatch/contracts";
import { scheduleDefinitionSchema, schedulePatchSchema } from "@acebatch/schedules";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { ApiError } from "../errors.ts";
import type { SchedulesService } from "../schedules-service.ts";

const scheduleIdParams = z.object({ id: z.string().min(1).max(100) });
const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: idCursorSchema("schedule"),
});

/**
 * POST/GET /v1/schedules, GET/PATCH/DELETE /v1/schedules/:id, POST /v1/schedules/:id/run.
 * A schedule's jobs are listed by `GET /v1/jobs?schedule_id=`.
 */
export async function scheduleRoutes(app: FastifyInstance, { schedules }: { schedules: SchedulesService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const scope = { scope: "schedules" as const };

  r.post("/v1/schedules", { config: scope, schema: { body: scheduleDefinitionSchema } }, async (request, reply) => {
    const schedule = await schedules.create(request.body);
    request.log.info({ scheduleId: schedule.id, cron: schedule.cron, everySeconds: schedule.every_seconds }, "schedule created");
    return reply.status(201).send(schedule);
  });

  r.get("/v1/schedules", { config: scope, schema: { querystring: listQuery } }, async (request) => schedules.list(request.query));

  r.get("/v1/schedules/:id", { config: scope, schema: { params: scheduleIdParams } }, async (request) => schedules.get(request.params.id));

  r.patch("/v1/schedules/:id", { config: scope, attachValidation: true, schema: { params: scheduleIdParams, body: schedulePatchSchema } }, async (request) => {
    const invalid = request.validationError;
    if (invalid) {
      // A bad body is checked against the stored definition too, so the 400 also names what only
      // the definition shows (the model's input fields); a bad id is answered as usual.
      if (!(invalid instanceof ApiError) || invalid.validationContext !== "body") throw invalid;
      return schedules.rejectPatch((request.params as { id: string }).id, request.body, invalid.details);
    }
    const schedule = await schedules.patch(request.params.id, request.body);
    request.log.info({ scheduleId: schedule.id, enabled: schedule.enabled }, "schedule changed");
    return schedule;
  });

  r.delete("/v1/schedules/:id", { config: scope, schema: { params: scheduleIdParams } }, async (request) => {
    const deleted = await schedules.remove(request.params.id);
    request.log.info({ scheduleId: deleted.id }, "schedule deleted");
    return deleted;
  });

  r.post("/v1/schedules/:id/run", { config: scope, schema: { params: scheduleIdParams } }, async (request, reply) => {
    const run = await schedules.runNow(request.params.id);
    request.log.info({ scheduleId: run.schedule_id, outcome: run.outcome, jobId: run.job_id }, "schedule fired by request");
    return reply.status(run.job_id ? 202 : 200).send(run);
  });
}
