import { createHash, randomUUID } from "node:crypto";
import { BatchInputError, ingestCombos, ingestCsv, ingestNdjson, limitBytes, type BatchLimits, type Ingest, type IngestItem, type TagCombosRequest } from "@acebatch/batch-input";
import { newId, type ModelId } from "@acebatch/contracts";
import type { Ledger } from "@acebatch/ledger";
import type { PriceTable } from "@acebatch/pricing";
import type { BatchRecord, BatchSource, BatchStore, JobStore, Queues } from "@acebatch/queue";
import type { Redis } from "ioredis";
import { COMMIT_CHUNK, commitJobs, encodeStaged, stagedChunks } from "./batch-commit.ts";
import { createBatchPricer } from "./batch-pricing.ts";
import { createUploadReport, type UploadReport } from "./batch-report.ts";
import { duplicateRow, encodeRowWithoutJob, invalidRow, unpriceableRow, type RowWithoutJob } from "./batch-rows-without-job.ts";
import { claimIdempotencyKey, idempotencyCaller } from "./idempotency.ts";

export interface BatchSubmitDeps {
  redis: Redis;
  prefix: string;
  store: JobStore;
  batches: BatchStore;
  queues: Queues;
  ledger: Ledger;
  prices: PriceTable;
  /** Measures a remote source track for inpaint/outpaint quotes; absent = those rows stay unpriced. */
  probeSourceSeconds?: (url: string) => Promise<number>;
  now?: () => Date;
}

export type BatchUpload =
  | { kind: "csv" | "ndjson"; source: AsyncIterable<Uint8Array | string> }
  | { kind: "combos"; request: TagCombosRequest };

export interface SubmitOptions {
  model?: ModelId;
  dryRun: boolean;
  onInvalid: "reject" | "skip";
  name?: string;
  maxCostMicroUsd: number | null;
  idempotencyKey?: string;
  /** The stored API key uploading it (null for the admin key): its budget applies to every job. */
  keyId?: string | null;
  /** The batch's own webhook destination (`batch.completed`). */
  webhookUrl?: string;
}

export type SubmitOutcome =
  | { kind: "rejected"; code: "invalid_rows" | "no_rows"; report: UploadReport }
  | { kind: "quote"; report: UploadReport }
  | { kind: "created" | "replayed"; batch: BatchRecord; report: UploadReport | null };

/** The upload pipeline of POST /v1/batches: read, validate, price, stage, then create and commit the batch. */
export function createBatchSubmit(deps: BatchSubmitDeps, limits: BatchLimits) {
  const now = deps.now ?? (() => new Date());
  const { store, batches } = deps;

  function openIngest(upload: BatchUpload, options: SubmitOptions, onChunk: (chunk: Buffer) => void): Promise<Ingest> | Ingest {
    const ingestOptions = { defaultModel: options.model, maxRows: limits.maxRows };
    if (upload.kind === "combos") {
      const model = upload.request.model ?? options.model;
      if (!model) throw new BatchInputError("malformed_file", "model is required: put it in the body or pass ?model=");
      return ingestCombos(upload.request, model as ModelId, ingestOptions);
    }
    const source = limitBytes(upload.source, limits.maxBytes, onChunk);
    return upload.kind === "csv" ? ingestCsv(source, ingestOptions) : ingestNdjson(source, ingestOptions);
  }

  /**
   * Read, validate and price an upload row by row, staging the valid jobs in Redis (never the whole
   * file in memory) and the rows that get no job (their results lines); then, unless it is a quote
   * or rejected, create the batch and commit what was staged. With an Idempotency-Key, the same
   * upload again converges on the same batch.
   */
  async function submit(upload: BatchUpload, options: SubmitOptions): Promise<SubmitOutcome> {
    const hash = createHash("sha256").update(
      JSON.stringify({
        kind: upload.kind,
        model: options.model ?? null,
        on_invalid: options.onInvalid,
        name: options.name ?? null,
        max: options.maxCostMicroUsd,
        // Only when given, so keys claimed before webhook_url existed still match their uploads.
        ...(options.webhookUrl ? { webhook_url: options.webhookUrl } : {}),
      }),
    );
    if (upload.kind === "combos") hash.update(JSON.stringify(upload.request));
    const ingest = await openIngest(upload, options, (chunk) => hash.update(chunk));
    const report = createUploadReport();
    const price = createBatchPricer({ store, prices: deps.prices, probeSourceSeconds: deps.probeSourceSeconds });
    const token = options.dryRun ? null : randomUUID();
    let staged = 0;
    let staging: Promise<void> = Promise.resolve();
    let pending: Extract<IngestItem, { kind: "job" }>[] = [];
    let withoutJob: { order: number; member: string }[] = [];
    // Staging writes run one at a time, while the next chunk is read and priced.
    const stageWrite = async (write: () => Promise<void>) => {
      await staging;
      staging = write();
    };
    // Nothing of an upload that on_invalid=reject refuses is kept.
    const keeping = () => token !== null && (options.onInvalid === "skip" || report.rejected === 0);
    const noJob = (row: RowWithoutJob) => {
      if (keeping()) withoutJob.push(encodeRowWithoutJob(row));
    };
    const flushWithoutJob = async () => {
      const rows = withoutJob;
      withoutJob = [];
      if (token && rows.length > 0) await stageWrite(() => batches.stageRowsWithoutJob(token, rows));
    };

    const flush = async () => {
      const chunk = pending;
      pending = [];
      const prices = await Promise.all(chunk.map((job) => price(job.model, job.input)));
      const lines: string[] = [];
      chunk.forEach((job, i) => {
        const p = prices[i]!;
        if (!p.ok) {
          const error = { row: job.row, column: p.column, message: p.message };
          report.unpriceable(error);
          return noJob(unpriceableRow(job, error));
        }
        report.accept(p.costMicroUsd, p.seconds, p.unmeasured ? { row: job.row, reason: p.unmeasured } : undefined);
        if (keeping()) lines.push(encodeStaged({ ...job, costMicroUsd: p.costMicroUsd }));
      });
      if (token && lines.length > 0) {
        staged += lines.length;
        await stageWrite(() => batches.stage(token, lines));
      }
      await flushWithoutJob();
    };

    try {
      for await (const item of ingest.items) {
        if (item.kind === "job") {
          pending.push(item);
          if (pending.length >= COMMIT_CHUNK) await flush();
          continue;
        }
        if (item.kind === "invalid") {
          report.invalid(item.errors);
          noJob(invalidRow(item));
        } else {
          report.duplicate({ row: item.row, variation: item.variation, duplicate_of: item.duplicateOf });
          noJob(duplicateRow(item));
        }
        if (withoutJob.length >= COMMIT_CHUNK) await flushWithoutJob();
      }
      await flush();
      await staging;
    } catch (err) {
      await staging.catch(() => undefined);
      if (token) await batches.dropStaging(token).catch(() => undefined);
      throw err;
    }

    const summary = report.summary();
    const drop = async () => {
      if (token) await batches.dropStaging(token);
    };
    if (summary.rejected > 0 && options.onInvalid === "reject") {
      await drop();
      return { kind: "rejected", code: "invalid_rows", report: summary };
    }
    if (options.dryRun) return { kind: "quote", report: summary };
    if (summary.accepted === 0) {
      await drop();
      return { kind: "rejected", code: "no_rows", report: summary };
    }

    let id = newId("batch");
    let replay = false;
    if (options.idempotencyKey) {
      const claim = await claimIdempotencyKey(deps.redis, deps.prefix, "batches", idempotencyCaller(options.keyId ?? null), options.idempotencyKey, hash.digest("hex"), id);
      id = claim.id;
      replay = claim.replay;
      const existing = claim.replay ? await batches.get(id) : null;
      if (existing && existing.status !== "enqueueing") {
        await drop();
        return { kind: "replayed", batch: existing, report: null };
      }
    }
    const columns = ingest.columns();
    const source: BatchSource = upload.kind;
    const { record } = await batches.create({
      id,
      name: options.name ?? (upload.kind === "combos" ? (upload.request.name ?? null) : null),
      status: "enqueueing",
      source,
      default_model: (upload.kind === "combos" ? (upload.request.model as ModelId | undefined) : undefined) ?? options.model ?? null,
      on_invalid: options.onInvalid,
      total: summary.total,
      accepted: summary.accepted,
      rejected: summary.rejected,
      duplicates: summary.duplicates,
      estimated_cost_micro_usd: summary.estimatedCostMicroUsd,
      estimated_seconds: summary.estimatedSeconds,
      max_cost_micro_usd: options.maxCostMicroUsd,
      key_id: options.keyId ?? null,
      webhook_url: options.webhookUrl ?? null,
      retry_of: null,
      retried_by: null,
      input_columns: columns.input,
      metadata_columns: columns.metadata,
      has_variations: columns.variations,
      created_at: now().toISOString(),
      enqueued_at: null,
      processing_started_at: null,
      cancel_requested_at: null,
      finished_at: null,
    });
    if (summary.errors.length > 0 || summary.duplicate_rows.length > 0) {
      await batches.saveReport(id, { errors: summary.errors, errors_truncated: summary.errors_truncated, duplicate_rows: summary.duplicate_rows });
    }
    await batches.commitRowsWithoutJob(token!, id);
    // The cap must exist before any row can reach a worker: each job reserves against it.
    if (options.maxCostMicroUsd !== null && options.maxCostMicroUsd !== undefined) {
      await deps.ledger.setBudget({ kind: "batch", id }, { limitMicroUsd: options.maxCostMicroUsd, period: "none", timezone: "UTC" });
    }
    const committed = await commitJobs({ batches, queues: deps.queues, now }, { id, keyId: options.keyId ?? null }, stagedChunks(batches, token!, staged));
    // A batch cancelled while it was being enqueued holds only the jobs written before the cancel.
    await batches.transition(id, committed.cancelled ? { from: "*", set: { accepted: committed.jobs } } : { from: ["enqueueing"], to: "in_progress", set: { enqueued_at: now().toISOString() } });
    await drop();
    return { kind: replay ? "replayed" : "created", batch: (await batches.get(id)) ?? record, report: summary };
  }

  return submit;
}
