import { finishJobRequestSchema, waveformSchema, type Waveform } from "@acebatch/contracts";
import { enqueueFinish, type JobRecord, type JobStore, type Queues } from "@acebatch/queue";
import type { ObjectStorage } from "@acebatch/storage";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import { z } from "zod";
import { ApiError, invalidInput, notFound } from "../errors.ts";
import { toJobView } from "../job-view.ts";
import { jobIdParams } from "./jobs.ts";

export interface JobFinishRoutesOptions {
  store: JobStore;
  /** A producer-role connection: bumps `finish_rev` on the job hash. */
  redis: Redis;
  queues: Queues;
  storage: ObjectStorage;
  publicBaseUrl: string;
}

const waveformQuery = z.object({
  variant: z.enum(["original", "finished"], { error: 'variant must be "original" or "finished"' }).default("original"),
});

/** What the worker stores as `jobs/{id}/peaks.json` (and `finished.peaks.json`). */
const storedPeaksSchema = waveformSchema.omit({ variant: true });

function waveformKey(job: JobRecord, variant: "original" | "finished"): string {
  if (!job.output) throw new ApiError(409, "audio_not_ready", `job ${job.id} has no audio (status ${job.status})`);
  if (variant === "finished" && !job.finished) {
    throw new ApiError(404, "finished_not_available", `job ${job.id} has no finished audio`);
  }
  const key = variant === "original" ? job.waveform_key : job.finished!.waveform_key;
  if (key === null) {
    throw new ApiError(409, "waveform_not_ready", `the waveform of job ${job.id} is computed shortly after its audio is stored; try again`);
  }
  return key;
}

/** POST /v1/jobs/:id/finish (re-run finishing alone) and GET /v1/jobs/:id/waveform. */
export async function jobFinishRoutes(app: FastifyInstance, { store, redis, queues, storage, publicBaseUrl }: JobFinishRoutesOptions) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/jobs/:id/finish",
    { config: { scope: "jobs:write" }, schema: { params: jobIdParams, body: finishJobRequestSchema } },
    async (request, reply) => {
      const { id } = request.params;
      const job = await store.get(id);
      if (!job) throw notFound("job", id);
      if (job.status !== "completed" || !job.output) {
        throw new ApiError(409, "job_not_completed", `job ${id} is ${job.status}: finishing runs on the stored output of a completed job`);
      }
      const spec = request.body?.finish ?? job.finish;
      if (!spec) {
        throw invalidInput([{ path: "finish", message: `finish is required: job ${id} has no finish block to run again` }]);
      }
      // Only while completed: finishing never touches a job's status.
      const set = { finish: spec, finish_status: "pending" as const, finish_error: null };
      const outcome = await store.transition(id, { from: ["completed"], set });
      if (!outcome.ok) {
        if (outcome.reason === "missing") throw notFound("job", id);
        throw new ApiError(409, "job_not_completed", `job ${id} is ${outcome.current}: finishing runs on the stored output of a completed job`);
      }
      // A new revision: a run still busy with an older one discards its result instead of committing it.
      const rev = await redis.hincrby(store.keys.job(id), "finish_rev", 1);
      await enqueueFinish(queues.finish, id, rev);
      request.log.info({ jobId: id, rev, newSpec: request.body?.finish !== undefined }, "finishing requested");
      return reply.status(202).send(toJobView((await store.get(id))!, publicBaseUrl));
    },
  );

  r.get(
    "/v1/jobs/:id/waveform",
    { config: { scope: "jobs:read" }, schema: { params: jobIdParams, querystring: waveformQuery } },
    async (request, reply): Promise<Waveform> => {
      const job = await store.get(request.params.id);
      if (!job) throw notFound("job", request.params.id);
      const key = waveformKey(job, request.query.variant);
      const stored = storedPeaksSchema.safeParse(await storage.getJson(key));
      if (!stored.success) throw new ApiError(410, "waveform_missing", `the waveform of job ${job.id} is no longer in storage`);
      reply.header("cache-control", "private, no-cache");
      return { variant: request.query.variant, ...stored.data };
    },
  );
}
