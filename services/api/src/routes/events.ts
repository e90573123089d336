import { isTerminalStatus, type JobStatus } from "@acebatch/contracts";
import type { Ledger } from "@acebatch/ledger";
import { createBatchStore, type JobRecord, type JobStore } from "@acebatch/queue";
import { createEventSubscriber, type EventSubscriber } from "@acebatch/webhooks";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import { z } from "zod";
import { fullCounts, toBatchView } from "../batch-view.ts";
import { errorBody } from "../error-handler.ts";
import { ApiError, notFound } from "../errors.ts";
import { toJobView } from "../job-view.ts";

export interface EventRoutesOptions {
  /** A producer-role connection; the one shared subscriber of this process is a duplicate of it. */
  redis: Redis;
  /** Redis key prefix (named so Fastify does not take it for a route prefix). */
  keyPrefix: string;
  store: JobStore;
  ledger: Ledger;
  publicBaseUrl: string;
  /** How often an open stream re-reads its record for changes no event announces (ms). */
  pollMs?: number;
  /** Comment lines that keep proxies from closing an idle stream (ms). */
  heartbeatMs?: number;
  now?: () => Date;
}

const idParams = z.object({ id: z.string().min(1).max(100) });

interface Sse {
  send(event: string, data: unknown): void;
  end(): void;
  readonly closed: boolean;
}

/** A Redis wait that must not hold an HTTP request forever while Redis is away. */
async function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ApiError(503, "redis_unavailable", "the event channel (Redis) is unavailable; retry shortly")), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `step` one at a time: a kick while a step runs asks for exactly one more afterwards, so a
 * burst of events costs at most two reads.
 */
function serialRunner(step: () => Promise<void>, onError: (err: unknown) => void) {
  let running = false;
  let again = false;
  const run = async () => {
    running = true;
    try {
      do {
        again = false;
        await step();
      } while (again);
    } catch (err) {
      onError(err);
    } finally {
      running = false;
    }
  };
  return () => {
    if (running) again = true;
    else void run();
  };
}

/** What a job stream calls progress: provider-side changes without a status change. */
const progressOf = (rec: JobRecord) =>
  JSON.stringify([rec.provider_status, rec.queue_position, rec.attempts, rec.request_id, rec.cancel_requested, rec.error?.code ?? null]);

/**
 * Server-Sent Events for one job (`GET /v1/jobs/{id}/events`) and one batch
 * (`GET /v1/batches/{id}/events`): a `snapshot` first, then `status` / `progress` events, and `done`
 * when the job or batch has finished (the server then closes the stream). One Redis subscription
 * per process feeds every stream; each stream also re-reads its record every `pollMs`, which
 * catches changes no event announces (provider status, queue position, spend) and any lost message.
 */
export async function eventRoutes(app: FastifyInstance, options: EventRoutesOptions) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const pollMs = options.pollMs ?? 1_000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const now = options.now ?? (() => new Date());
  const batches = createBatchStore({ redis: options.redis, prefix: options.keyPrefix });
  const open = new Set<Sse>();
  let hub: EventSubscriber | null = null;

  function channel(): EventSubscriber {
    if (!hub) {
      const connection = options.redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: undefined });
      connection.on("error", (err) => app.log.warn({ err: { message: err.message } }, "events subscriber connection error"));
      hub = createEventSubscriber({ redis: connection, prefix: options.keyPrefix });
    }
    return hub;
  }

  // Open streams would keep the server from closing: end them first.
  app.addHook("preClose", async () => {
    for (const sse of open) sse.end();
  });
  app.addHook("onClose", async () => {
    await hub?.close();
  });

  function openSse(reply: FastifyReply, cleanup: () => void): Sse {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write("retry: 3000\n\n");
    let seq = 0;
    let closed = false;
    const heartbeat = setInterval(() => {
      if (!closed) res.write(`: heartbeat ${now().toISOString()}\n\n`);
    }, heartbeatMs);
    const sse: Sse = {
      send(event, data) {
        if (closed) return;
        seq += 1;
        res.write(`id: ${seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      end() {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        open.delete(sse);
        cleanup();
        res.end();
      },
      get closed() {
        return closed;
      },
    };
    open.add(sse);
    // The client went away (or the stream ended): drop the listener and timers.
    res.on("close", () => sse.end());
    return sse;
  }

  r.get("/v1/jobs/:id/events", { config: { scope: "jobs:read" }, schema: { params: idParams } }, async (request, reply) => {
    const { id } = request.params;
    const hubNow = channel();
    // Subscribed before the snapshot is read, so no change falls between the two.
    await withinMs(hubNow.start(), 5_000);
    let rec = await options.store.get(id);
    if (!rec) throw notFound("job", id);
    const view = (record: JobRecord) => toJobView(record, options.publicBaseUrl);

    let lastStatus: JobStatus = rec.status;
    let lastProgress = progressOf(rec);
    const announced: { from: JobStatus; to: JobStatus }[] = [];
    const stops: (() => void)[] = [];
    const sse = openSse(reply, () => stops.forEach((stop) => stop()));
    sse.send("snapshot", { job: view(rec) });
    if (isTerminalStatus(rec.status)) {
      sse.send("done", { job: view(rec) });
      sse.end();
      return reply;
    }

    const kick = serialRunner(
      async () => {
        if (sse.closed) return;
        const fresh = await options.store.get(id);
        if (!fresh) {
          sse.send("error", errorBody("not_found", `job ${id} no longer exists`));
          return sse.end();
        }
        rec = fresh;
        // Transitions in the order the channel announced them, then whatever the record says beyond.
        for (const t of announced.splice(0)) {
          if (t.to === lastStatus) continue;
          sse.send("status", { from: t.from, to: t.to, job: view(rec) });
          lastStatus = t.to;
        }
        if (rec.status !== lastStatus) {
          sse.send("status", { from: lastStatus, to: rec.status, job: view(rec) });
          lastStatus = rec.status;
          lastProgress = progressOf(rec);
        } else if (progressOf(rec) !== lastProgress) {
          lastProgress = progressOf(rec);
          sse.send("progress", { job: view(rec) });
        }
        if (isTerminalStatus(rec.status)) {
          sse.send("done", { job: view(rec) });
          sse.end();
        }
      },
      (err) => request.log.warn({ err, jobId: id }, "job event stream could not read the job"),
    );
    const unlisten = hubNow.listen((raw) => {
      let message: { type?: string; job_id?: string; from?: JobStatus; to?: JobStatus };
      try {
        message = JSON.parse(raw) as typeof message;
      } catch {
        return;
      }
      if (message.type !== "job.status" || message.job_id !== id || !message.from || !message.to) return;
      announced.push({ from: message.from, to: message.to });
      kick();
    });
    const timer = setInterval(kick, pollMs);
    stops.push(unlisten, () => clearInterval(timer));
    kick();
    return reply;
  });

  r.get("/v1/batches/:id/events", { config: { scope: "batches" }, schema: { params: idParams } }, async (request, reply) => {
    const { id } = request.params;
    const hubNow = channel();
    await withinMs(hubNow.start(), 5_000);

    async function current() {
      const { record, counts } = await batches.getWithCounts(id);
      if (!record) return null;
      const budget = await options.ledger.getBudget({ kind: "batch", id });
      return toBatchView(record, fullCounts(counts), { spentMicroUsd: budget.spentMicroUsd, reservedMicroUsd: budget.reservedMicroUsd }, now(), options.publicBaseUrl);
    }
    const fingerprint = (v: NonNullable<Awaited<ReturnType<typeof current>>>) => JSON.stringify([v.status, v.counts, v.spent_usd, v.reserved_usd]);
    const finished = (status: string) => status === "completed" || status === "cancelled";

    const first = await current();
    if (!first) throw notFound("batch", id);
    let last = fingerprint(first);
    const stops: (() => void)[] = [];
    const sse = openSse(reply, () => stops.forEach((stop) => stop()));
    sse.send("snapshot", { batch: first });
    if (finished(first.status)) {
      sse.send("done", { batch: first });
      sse.end();
      return reply;
    }

    const kick = serialRunner(
      async () => {
        if (sse.closed) return;
        const view = await current();
        if (!view) {
          sse.send("error", errorBody("not_found", `batch ${id} no longer exists`));
          return sse.end();
        }
        const fp = fingerprint(view);
        if (fp !== last) {
          last = fp;
          sse.send("progress", { batch: view });
        }
        if (finished(view.status)) {
          sse.send("done", { batch: view });
          sse.end();
        }
      },
      (err) => request.log.warn({ err, batchId: id }, "batch event stream could not read the batch"),
    );
    // Cheap pre-filter: only messages naming this batch trigger a read.
    const unlisten = hubNow.listen((raw) => {
      if (raw.includes(id)) kick();
    });
    const timer = setInterval(kick, pollMs);
    stops.push(unlisten, () => clearInterval(timer));
    return reply;
  });
}
