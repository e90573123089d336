import { Readable } from "node:stream";
import { BatchInputError, tagCombosRequestSchema, type BatchLimits } from "@acebatch/batch-input";
import { idCursorSchema, issuesToDetails, microUsdToUsd, modelIdSchema, TEXT_TO_AUDIO, usdToMicroUsd, webhookUrlSchema, type ModelId } from "@acebatch/contracts";
import type { Ledger } from "@acebatch/ledger";
import { createSourceLengthProbe, loadPrices, type PriceTable } from "@acebatch/pricing";
import { createBatchStore, type JobStore, type Queues } from "@acebatch/queue";
import type { ObjectStorage, UrlSigner } from "@acebatch/storage";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import { z } from "zod";
import { budgetKeyIdOf } from "../auth.ts";
import { batchArchive } from "../batch-archive.ts";
import type { UploadReport } from "../batch-report.ts";
import { resultsCsv, resultsJsonl, type ResultDeps } from "../batch-results.ts";
import { CSV_MEDIA_TYPES, kindOfMediaType, mediaType, MULTIPART, multipartFile, NDJSON_MEDIA_TYPES } from "../batch-upload.ts";
import { toBatchView } from "../batch-view.ts";
import { createBatchesService, type BatchUpload, type SubmitOptions } from "../batches-service.ts";
import { errorBody } from "../error-handler.ts";
import { invalidInput } from "../errors.ts";

export interface BatchRoutesOptions {
  /** A producer-role connection. */
  redis: Redis;
  /** Redis key prefix (named so Fastify does not take it for a route prefix). */
  keyPrefix: string;
  store: JobStore;
  queues: Queues;
  ledger: Ledger;
  storage: ObjectStorage;
  signer: UrlSigner;
  publicBaseUrl: string;
  prices?: PriceTable;
  /** Measures remote inpaint/outpaint sources for quotes (see @acebatch/pricing's createSourceLengthProbe). */
  probeSourceSeconds?: (url: string) => Promise<number>;
  /** Private hosts/CIDRs the default probe may read besides PUBLIC_BASE_URL's host: the worker's SOURCE_ALLOW_PRIVATE_HOSTS, so both refuse the same sources. */
  sourceAllowPrivateHosts?: string[];
  /** Row and byte limits of one upload (defaults: 100,000 rows, 50 MB). */
  limits?: Partial<BatchLimits>;
  /** Lifetime of the signed audio links in results (default 7 days). */
  audioUrlTtlSeconds?: number;
  now?: () => Date;
}

const batchIdParams = z.object({ id: z.string().min(1).max(100) });
const idempotencyHeaders = z.object({
  "idempotency-key": z.string().min(1).max(255, "Idempotency-Key must be at most 255 characters").optional(),
});
const flag = z
  .enum(["true", "false", "1", "0"], { error: "must be true or false" })
  .optional()
  .transform((v) => v === "true" || v === "1");

// Strict: a misspelt parameter (`webhok_url`) is a 400 naming it, never silently dropped.
const createQuery = z.strictObject({
  model: modelIdSchema.optional().describe("model of rows without a model column"),
  dry_run: flag.describe("true: validate and price the rows, enqueue nothing (200)"),
  on_invalid: z
    .enum(["reject", "skip"], { error: "must be reject or skip" })
    .default("reject")
    .describe("reject: any invalid row makes the upload a 400; skip: enqueue the valid rows"),
  name: z.string().trim().min(1).max(200).optional(),
  max_cost_usd: z.coerce.number({ error: "must be a number of dollars" }).positive("must be more than 0").max(1_000_000, "must be at most 1000000").optional().describe("the batch's spend cap"),
  webhook_url: webhookUrlSchema
    .optional()
    .describe("receives batch.completed (Standard Webhooks, signed with WEBHOOK_SECRET) once every row has finished; kept by a retry batch"),
});
const resultsQuery = z.object({ format: z.enum(["csv", "jsonl"]).default("csv"), bom: flag });
const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20), cursor: idCursorSchema("batch") });

const AUDIO_URL_TTL_SECONDS = 7 * 24 * 3_600;

function reportBody(report: UploadReport, maxCostMicroUsd: number | null) {
  const warnings: string[] = [];
  if (maxCostMicroUsd !== null && report.estimatedCostMicroUsd > maxCostMicroUsd) {
    warnings.push(
      `the estimated cost $${microUsdToUsd(report.estimatedCostMicroUsd)} is above max_cost_usd $${microUsdToUsd(maxCostMicroUsd)}: jobs wait (waiting_budget) once the cap is reached`,
    );
  }
  if (report.unpriced > 0) {
    const example = report.firstUnmeasured ? ` (row ${report.firstUnmeasured.row}: ${report.firstUnmeasured.reason})` : "";
    warnings.push(
      `${report.unpriced} rows have a remote source that was not measured${example}; their cost is not in estimated_cost_usd (the worker measures it before submitting)`,
    );
  }
  return {
    total: report.total,
    accepted: report.accepted,
    rejected: report.rejected,
    duplicates: report.duplicates,
    errors: report.errors,
    errors_truncated: report.errors_truncated,
    duplicate_rows: report.duplicate_rows,
    estimated_cost_usd: microUsdToUsd(report.estimatedCostMicroUsd),
    estimated_seconds: report.estimatedSeconds,
    unpriced_rows: report.unpriced,
    warnings,
  };
}

const BATCH_MEDIA_TYPES = `send the batch as text/csv, application/x-ndjson, multipart/form-data (a "file" field) or application/json (tag combos)`;

function sendInputError(reply: FastifyReply, err: BatchInputError) {
  // The rest of the upload is not read: close the connection instead of draining it.
  return reply
    .status(err.statusCode)
    .header("connection", "close")
    .send(errorBody(err.statusCode === 413 ? "payload_too_large" : err.code, err.message));
}

/**
 * /v1/batches: CSV / NDJSON / multipart uploads and tag-combination requests, streamed (the body
 * reaches the service as a stream: content-type parsers here hand the raw payload through), plus
 * live state, results, archive, cancel and retry.
 */
export async function batchRoutes(app: FastifyInstance, options: BatchRoutesOptions) {
  const now = options.now ?? (() => new Date());
  const batchesStore = createBatchStore({ redis: options.redis, prefix: options.keyPrefix });
  const service = createBatchesService({
    redis: options.redis,
    prefix: options.keyPrefix,
    store: options.store,
    batches: batchesStore,
    queues: options.queues,
    ledger: options.ledger,
    prices: options.prices ?? loadPrices(),
    // Our own signed audio links live under PUBLIC_BASE_URL, which may be a private host.
    probeSourceSeconds:
      options.probeSourceSeconds ??
      createSourceLengthProbe({ allowPrivateHosts: [new URL(options.publicBaseUrl).hostname, ...(options.sourceAllowPrivateHosts ?? [])] }),
    limits: options.limits,
    now,
  });
  const resultDeps: ResultDeps = {
    store: options.store,
    batches: batchesStore,
    publicBaseUrl: options.publicBaseUrl,
    signer: options.signer,
    audioUrlTtlSeconds: options.audioUrlTtlSeconds ?? AUDIO_URL_TTL_SECONDS,
  };
  const view = async (id: string) => {
    const { record, counts, money } = await service.get(id);
    return toBatchView(record, counts, money, now(), options.publicBaseUrl);
  };

  // Uploads stay streams: these parsers pass the raw payload on without reading it.
  app.addContentTypeParser([...CSV_MEDIA_TYPES, ...NDJSON_MEDIA_TYPES, MULTIPART], (_request, payload, done) => done(null, payload));

  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/batches",
    {
      config: { scope: "batches", acceptedMediaTypes: BATCH_MEDIA_TYPES },
      schema: {
        description:
          "Upload a batch: a CSV (`text/csv`), NDJSON (one `{model, input, metadata?, variations?}` per line), a multipart form with a `file` field, or a JSON tag-combination request (`{model?, input, axes, variations?, metadata?, name?, max_cost_usd?, webhook_url?}`). Every form takes the query parameters below; unknown ones are a 400.",
        querystring: createQuery,
        headers: idempotencyHeaders,
        consumes: ["text/csv", "application/x-ndjson", "multipart/form-data"],
      },
    },
    async (request, reply) => {
      const type = mediaType(request.headers["content-type"]);
      const query = request.query;
      let upload: BatchUpload;
      let maxCostUsd = query.max_cost_usd;
      let webhookUrl = query.webhook_url;
      const declared = Number(request.headers["content-length"]);
      if (Number.isFinite(declared) && declared > service.limits.maxBytes && type !== "application/json") {
        return sendInputError(reply, new BatchInputError("file_too_large", `the upload is larger than the limit of ${service.limits.maxBytes} bytes; split it into several batches`));
      }
      if (type === "application/json") {
        const parsed = tagCombosRequestSchema.safeParse(request.body);
        if (!parsed.success) throw invalidInput(issuesToDetails(parsed.error.issues));
        if (parsed.data.model !== undefined && !modelIdSchema.safeParse(parsed.data.model).success) {
          throw invalidInput([{ path: "model", message: modelIdSchema.safeParse(parsed.data.model).error!.issues[0]!.message }]);
        }
        upload = { kind: "combos", request: parsed.data };
        maxCostUsd ??= parsed.data.max_cost_usd;
        webhookUrl ??= parsed.data.webhook_url;
      } else if (type === MULTIPART) {
        upload = await multipartFile(request.headers, request.body as Readable);
      } else {
        const kind = kindOfMediaType(type);
        if (!kind || !request.body) {
          return reply.status(415).send(errorBody("unsupported_media_type", BATCH_MEDIA_TYPES));
        }
        upload = { kind, source: request.body as Readable };
      }
      const submitOptions: SubmitOptions = {
        // Rows without a model column use ?model=, else the seed's default (the cheap, fast base model).
        model: (query.model as ModelId | undefined) ?? TEXT_TO_AUDIO,
        dryRun: query.dry_run,
        onInvalid: query.on_invalid,
        name: query.name,
        maxCostMicroUsd: maxCostUsd === undefined ? null : usdToMicroUsd(maxCostUsd),
        idempotencyKey: request.headers["idempotency-key"],
        keyId: budgetKeyIdOf(request.principal),
        webhookUrl,
      };
      let outcome;
      try {
        outcome = await service.submit(upload, submitOptions);
      } catch (err) {
        if (err instanceof BatchInputError) return sendInputError(reply, err);
        throw err;
      }
      const log = request.log.child({ batchId: "batch" in outcome ? outcome.batch.id : null });
      if (outcome.kind === "rejected") {
        const body = reportBody(outcome.report, submitOptions.maxCostMicroUsd);
        const message =
          outcome.code === "no_rows"
            ? "the upload has no valid row to enqueue"
            : `${outcome.report.rejected} row(s) are invalid and on_invalid=reject: nothing was enqueued (fix them, or pass on_invalid=skip to enqueue the valid rows)`;
        const details = outcome.report.errors.map((e) => ({ path: `row ${e.row}${e.column ? ` / ${e.column}` : ""}`, message: e.message }));
        log.info({ rejected: outcome.report.rejected }, "batch upload rejected");
        return reply.status(400).send({ error: { code: outcome.code === "no_rows" ? "no_valid_rows" : "invalid_rows", message, details }, dry_run: submitOptions.dryRun, ...body });
      }
      if (outcome.kind === "quote") {
        return reply.status(200).send({
          id: null,
          status: "quote",
          dry_run: true,
          max_cost_usd: submitOptions.maxCostMicroUsd === null ? null : microUsdToUsd(submitOptions.maxCostMicroUsd),
          ...reportBody(outcome.report, submitOptions.maxCostMicroUsd),
        });
      }
      const batch = await view(outcome.batch.id);
      if (outcome.kind === "replayed") {
        log.info("batch upload replayed");
        const report = outcome.report ? reportBody(outcome.report, outcome.batch.max_cost_micro_usd) : await service.report(batch.id);
        return reply.status(200).send({ ...batch, dry_run: false, ...report, estimated_cost_usd: batch.estimated_cost_usd });
      }
      log.info({ accepted: batch.accepted, rejected: batch.rejected }, "batch accepted");
      const body = reportBody(outcome.report!, outcome.batch.max_cost_micro_usd);
      return reply.status(201).send({ ...batch, dry_run: false, ...body, estimated_cost_usd: batch.estimated_cost_usd });
    },
  );

  r.get("/v1/batches", { config: { scope: "batches" }, schema: { querystring: listQuery } }, async (request) => {
    const page = await service.list(request.query.limit, request.query.cursor);
    return { data: await Promise.all(page.records.map((b) => view(b.id))), next_cursor: page.nextCursor };
  });

  r.get("/v1/batches/:id", { config: { scope: "batches" }, schema: { params: batchIdParams } }, async (request) => view(request.params.id));

  r.get("/v1/batches/:id/errors", { config: { scope: "batches" }, schema: { params: batchIdParams } }, async (request) => service.report(request.params.id));

  r.get(
    "/v1/batches/:id/results",
    { config: { scope: "batches" }, schema: { params: batchIdParams, querystring: resultsQuery } },
    async (request, reply) => {
      const batch = await service.getRecord(request.params.id);
      if (request.query.format === "jsonl") {
        reply.type("application/x-ndjson; charset=utf-8").header("content-disposition", `attachment; filename="${batch.id}-results.jsonl"`);
        return reply.send(Readable.from(resultsJsonl(resultDeps, batch)));
      }
      reply.type("text/csv; charset=utf-8").header("content-disposition", `attachment; filename="${batch.id}-results.csv"`);
      return reply.send(Readable.from(resultsCsv(resultDeps, batch, { bom: request.query.bom })));
    },
  );

  r.get("/v1/batches/:id/archive", { config: { scope: "batches" }, schema: { params: batchIdParams } }, async (request, reply) => {
    const batch = await service.getRecord(request.params.id);
    reply.type("application/zip").header("content-disposition", `attachment; filename="${batch.id}.zip"`);
    return reply.send(batchArchive({ ...resultDeps, storage: options.storage, logger: request.log as never }, batch));
  });

  r.post("/v1/batches/:id/cancel", { config: { scope: "batches" }, schema: { params: batchIdParams } }, async (request) => {
    await service.cancel(request.params.id);
    request.log.info({ batchId: request.params.id }, "batch cancel requested");
    return view(request.params.id);
  });

  r.post("/v1/batches/:id/retry", { config: { scope: "batches" }, schema: { params: batchIdParams } }, async (request, reply) => {
    const { batch, replay } = await service.retry(request.params.id);
    request.log.info({ batchId: request.params.id, retryBatchId: batch.id, replay }, "batch retry");
    return reply.status(replay ? 200 : 201).send(await view(batch.id));
  });
}
