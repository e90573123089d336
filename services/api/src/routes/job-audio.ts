import { Readable } from "node:stream";
import { FINISH_FORMATS } from "@acebatch/contracts";
import type { JobRecord } from "@acebatch/queue";
import type { ByteRange, ObjectStorage } from "@acebatch/storage";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { parseRange } from "../byte-range.ts";
import { ApiError } from "../errors.ts";
import type { JobsService } from "../jobs-service.ts";
import { jobIdParams } from "./jobs.ts";

const audioQuery = z.object({
  expires: z.string().max(20).optional(),
  signature: z.string().max(200).optional(),
  /** `original` (default): the untouched provider output; `finished`: a rendition of the finish block. */
  variant: z.enum(["original", "finished"], { error: 'variant must be "original" or "finished"' }).default("original"),
  /** Which rendition; the original exists only in its own format, the finished master is `wav`. */
  format: z.enum(FINISH_FORMATS, { error: 'format must be "wav", "flac", "mp3" or "ogg"' }).optional(),
});

/** The stored object a variant/format of a job's audio lives under, or a 404/409 naming what is missing. */
export function audioObject(
  job: JobRecord,
  variant: "original" | "finished",
  format: string | undefined,
): { key: string; contentType: string; sha256: string } {
  if (!job.output) {
    throw new ApiError(409, "audio_not_ready", `job ${job.id} has no audio (status ${job.status})`);
  }
  if (variant === "original") {
    if (format !== undefined && format !== job.output.format) {
      throw new ApiError(
        404,
        "format_not_available",
        `the original audio of job ${job.id} is ${job.output.format}, not ${format}; finished renditions are under variant=finished`,
      );
    }
    return { key: job.output.storage_key, contentType: job.output.content_type, sha256: job.output.sha256 };
  }
  if (!job.finished) {
    const why = job.finish ? `its finishing is ${job.finish_status ?? "pending"}` : "it has no finish block";
    throw new ApiError(404, "finished_not_available", `job ${job.id} has no finished audio: ${why}`);
  }
  const file = job.finished.formats[(format ?? "wav") as keyof typeof job.finished.formats];
  if (!file) {
    const have = Object.keys(job.finished.formats).join(", ");
    throw new ApiError(404, "format_not_available", `the finished audio of job ${job.id} is not available as ${format} (it is: ${have})`);
  }
  return { key: file.storage_key, contentType: file.content_type, sha256: file.sha256 };
}

/** GET /v1/jobs/:id/audio: the stored audio with its content type; Range requests work. */
export async function jobAudioRoutes(app: FastifyInstance, { jobs, storage }: { jobs: JobsService; storage: ObjectStorage }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    "/v1/jobs/:id/audio",
    { config: { scope: "jobs:read", allowSignedUrl: true }, schema: { params: jobIdParams, querystring: audioQuery } },
    async (request, reply) => {
      const job = await jobs.get(request.params.id);
      const object = audioObject(job, request.query.variant, request.query.format);
      const stat = await storage.stat(object.key);
      if (!stat) throw new ApiError(410, "audio_missing", `the audio of job ${job.id} is no longer in storage`);
      const range = parseRange(request.headers.range, stat.bytes);
      if (range === "unsatisfiable") {
        reply.header("content-range", `bytes */${stat.bytes}`);
        throw new ApiError(416, "range_not_satisfiable", `the requested range ${JSON.stringify(request.headers.range!.slice(0, 60))} lies outside the ${stat.bytes}-byte file`);
      }
      reply.header("accept-ranges", "bytes").header("content-type", object.contentType);
      // A finish re-run replaces the finished files under the same URL: those are revalidated.
      const cacheControl = request.query.variant === "finished" ? "private, no-cache" : "private, max-age=3600";
      reply.header("etag", `"${object.sha256}"`).header("cache-control", cacheControl);
      // Fastify runs GET handlers for HEAD too: never read (or download from S3) a body nobody gets.
      const key = object.key;
      const body = (r?: ByteRange) => (request.method === "HEAD" ? Readable.from([]) : storage.createReadStream(key, r));
      if (range) {
        reply.status(206).header("content-range", `bytes ${range.start}-${range.end}/${stat.bytes}`);
        reply.header("content-length", range.end - range.start + 1);
        return reply.send(body(range));
      }
      reply.header("content-length", stat.bytes);
      return reply.send(body());
    },
  );
}
