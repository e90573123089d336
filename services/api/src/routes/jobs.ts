import { createJobRequestSchema, listJobsQuerySchema } from "@acebatch/contracts";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { budgetKeyIdOf } from "../auth.ts";
import type { JobsService } from "../jobs-service.ts";
import { toJobView } from "../job-view.ts";

export const jobIdParams = z.object({ id: z.string().min(1).max(100) });
const idempotencyHeaders = z.object({
  "idempotency-key": z.string().min(1).max(255, "Idempotency-Key must be at most 255 characters").optional(),
});

export interface JobRoutesOptions {
  jobs: JobsService;
  publicBaseUrl: string;
}

/** POST/GET /v1/jobs, GET /v1/jobs/:id, POST /v1/jobs/:id/cancel. */
export async function jobRoutes(app: FastifyInstance, { jobs, publicBaseUrl }: JobRoutesOptions) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const view = (rec: Parameters<typeof toJobView>[0]) => toJobView(rec, publicBaseUrl);

  r.post(
    "/v1/jobs",
    { config: { scope: "jobs:write" }, schema: { body: createJobRequestSchema, headers: idempotencyHeaders } },
    async (request, reply) => {
      const { job, replay } = await jobs.create(request.body, request.headers["idempotency-key"], budgetKeyIdOf(request.principal));
      // The busiest route: its job goes on the access line rather than on a line of its own.
      request.accessLog = { jobId: job.id, model: job.model, replay };
      return reply.status(replay ? 200 : 202).send(view(job));
    },
  );

  r.get("/v1/jobs", { config: { scope: "jobs:read" }, schema: { querystring: listJobsQuerySchema } }, async (request) => {
    const { records, nextCursor } = await jobs.list(request.query);
    return { data: records.map(view), next_cursor: nextCursor };
  });

  r.get("/v1/jobs/:id", { config: { scope: "jobs:read" }, schema: { params: jobIdParams } }, async (request) =>
    view(await jobs.get(request.params.id)),
  );

  r.post("/v1/jobs/:id/cancel", { config: { scope: "jobs:write" }, schema: { params: jobIdParams } }, async (request) => {
    const job = await jobs.cancel(request.params.id);
    request.log.info({ jobId: job.id, status: job.status }, "job cancel requested");
    return view(job);
  });
}
