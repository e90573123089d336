import type { Metadata, ModelId } from "@acebatch/contracts";
import { BATCH_JOB_PRIORITY, batchJobId, type BatchStore, type Queues } from "@acebatch/queue";

/** One validated, priced job waiting to be written into a batch. */
export interface StagedJob {
  row: number;
  variation: number;
  model: ModelId;
  input: Record<string, unknown>;
  metadata: Metadata;
  costMicroUsd: number | null;
}

/** Staged jobs travel through Redis as compact JSON arrays. */
export function encodeStaged(job: StagedJob): string {
  return JSON.stringify([job.row, job.variation, job.model, job.input, job.metadata, job.costMicroUsd]);
}

export function decodeStaged(raw: string): StagedJob {
  const [row, variation, model, input, metadata, costMicroUsd] = JSON.parse(raw) as [number, number, ModelId, Record<string, unknown>, Metadata, number | null];
  return { row, variation, model, input, metadata, costMicroUsd };
}

/** Jobs written per step: one pipelined burst of record creations, then one `addBulk`. */
export const COMMIT_CHUNK = 1_000;

export interface CommitDeps {
  batches: BatchStore;
  queues: Queues;
  now: () => Date;
}

/** Chunks written at once: enough that Node prepares one chunk while Redis executes the previous ones. */
const IN_FLIGHT = 3;
/** How often (in chunks) the batch's status is checked for a cancel that arrived meanwhile. */
const CANCEL_CHECK_EVERY = 10;

/**
 * Write a batch's jobs: each chunk's records are created in one script call (create-if-absent,
 * with deterministic ids, exactly as `JobStore.create` writes them), then the ones that are new or
 * still queued are added to BullMQ in one `addBulk` at the batch priority. A repeat of the same
 * chunks converges: existing records are kept, and BullMQ ignores a job id it already holds.
 * Up to IN_FLIGHT chunks are under way at once; every command goes over the one producer
 * connection in the order it was issued, so a job's record always precedes its queue entry and
 * the queue receives the rows in row order. Stops early when the batch is cancelled meanwhile.
 * Returns how many jobs the batch holds from these chunks.
 */
export async function commitJobs(
  deps: CommitDeps,
  batch: { id: string; keyId: string | null },
  chunks: AsyncIterable<StagedJob[]>,
): Promise<{ jobs: number; cancelled: boolean }> {
  const batchId = batch.id;
  let jobs = 0;
  let index = 0;
  const inFlight: Promise<void>[] = [];
  const createdAt = deps.now().toISOString();

  async function writeChunk(chunk: StagedJob[]): Promise<void> {
    const records = chunk.map((job) => ({
      id: batchJobId(batchId, job.row, job.variation),
      model: job.model,
      input: job.input,
      metadata: job.metadata,
      key_id: batch.keyId,
      estimated_cost_micro_usd: job.costMicroUsd,
      created_at: createdAt,
    }));
    const outcomes = await deps.batches.createJobs(batchId, records);
    const toQueue = [];
    for (let i = 0; i < records.length; i++) {
      if (outcomes[i] !== "created" && outcomes[i] !== "queued") continue;
      const job = records[i]!;
      toQueue.push({ name: "generate" as const, data: { job_id: job.id, model: job.model, input: job.input }, opts: { jobId: job.id, priority: BATCH_JOB_PRIORITY } });
    }
    if (toQueue.length > 0) await deps.queues.generate.addBulk(toQueue);
  }

  try {
    for await (const chunk of chunks) {
      if (index++ % CANCEL_CHECK_EVERY === 0 && (await deps.batches.status(batchId)) !== "enqueueing") {
        await Promise.all(inFlight);
        return { jobs, cancelled: true };
      }
      const write = writeChunk(chunk);
      // A failure surfaces when its turn comes below; until then it must not count as unhandled.
      write.catch(() => undefined);
      inFlight.push(write);
      jobs += chunk.length;
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
  } catch (err) {
    await Promise.allSettled(inFlight);
    throw err;
  }
  return { jobs, cancelled: false };
}

/** Chunks of an upload's staging list, in order; the next chunk is already being read while one is consumed. */
export async function* stagedChunks(batches: BatchStore, token: string, count: number): AsyncGenerator<StagedJob[]> {
  let next = count > 0 ? batches.staged(token, 0, COMMIT_CHUNK) : null;
  for (let start = 0; next; start += COMMIT_CHUNK) {
    const raw = await next;
    next = start + COMMIT_CHUNK < count ? batches.staged(token, start + COMMIT_CHUNK, COMMIT_CHUNK) : null;
    if (raw.length === 0) return;
    yield raw.map(decodeStaged);
  }
}
