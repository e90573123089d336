import { once } from "node:events";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWavStream } from "@acebatch/audio";
import { createLogger } from "@acebatch/config";
import { newId } from "@acebatch/contracts";
import { closeRedis, createJobStore, createRedis, type JobRecord, type JobStore } from "@acebatch/queue";
import { createLocalStorage, type LocalStorage } from "@acebatch/storage";
import { uniquePrefix } from "@acebatch/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { CallContext, ResilientProvider } from "./flow/resilient-provider.ts";
import { SubmitClaimLost } from "./flow/submit-claim.ts";
import { createGenerateProcessor } from "./generate-processor.ts";
import type { JobMoney } from "./money/job-money.ts";

const logger = createLogger({ name: "generate-test", level: "silent" });
const LEASE_MS = 300;

let redis: Redis;
let audioServer: Server;
let audioUrl: string;
let dir: string;
beforeAll(async () => {
  redis = createRedis(inject("redisUrl"), "worker");
  audioServer = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "audio/wav" });
    createWavStream({ durationSeconds: 1, sampleRate: 8_000, seed: 1, tags: "test" }).pipe(res);
  });
  audioServer.listen(0, "127.0.0.1");
  await once(audioServer, "listening");
  audioUrl = `http://127.0.0.1:${(audioServer.address() as AddressInfo).port}/out.wav`;
  dir = await mkdtemp(join(tmpdir(), "acebatch-generate-"));
});
afterAll(async () => {
  await closeRedis(redis);
  audioServer.close();
  await rm(dir, { recursive: true, force: true });
});

interface ProviderScript {
  /** Runs before the submit's onSend (while the claim is held and not yet marked sending). */
  beforeSend?: () => Promise<void>;
  /** Runs after the request "left" and before its answer returns. */
  afterSend?: (requestId: string) => Promise<void>;
}

/** A provider that renders instantly and records every request that left and every cancel. */
function fakeProvider(script: ProviderScript = {}) {
  const sent: string[] = [];
  const cancelled: string[] = [];
  const provider = {
    async submit(_model: string, _input: unknown, ctx: CallContext) {
      await script.beforeSend?.();
      await ctx.onSend?.();
      const requestId = `req-${sent.length + 1}`;
      sent.push(requestId);
      await script.afterSend?.(requestId);
      return { requestId };
    },
    async status(requestId: string) {
      return { requestId, status: "completed", rawStatus: "completed", queuePosition: null };
    },
    async result(requestId: string) {
      return { requestId, status: "completed", audioUrl, costUsd: null, costMicroUsd: 1_000, error: null, seed: 7, createdAt: null, finishedAt: null };
    },
    async cancel(requestId: string) {
      cancelled.push(requestId);
      return { outcome: "cancelled" };
    },
  } as unknown as ResilientProvider;
  return { provider, sent, cancelled };
}

/** Money that records what it was asked to do; reservations land on the record as the real one does. */
function fakeMoney(store: JobStore, hooks: { onReserve?: (rec: JobRecord) => Promise<void>; onSettle?: (rec: JobRecord) => Promise<void> } = {}) {
  const calls = { reserved: [] as string[], charged: [] as string[], settled: [] as string[], released: [] as string[] };
  const money = {
    async reserve(rec: JobRecord, ordinal: number) {
      const reservationId = `${rec.id}#${ordinal}`;
      calls.reserved.push(reservationId);
      await store.update(rec.id, { reservation_id: reservationId });
      await hooks.onReserve?.(rec);
      return { reservationId, estimate: { costMicroUsd: 1_000, seconds: 5 } };
    },
    async chargePossibleSubmit(_rec: JobRecord, reservationId: string) {
      calls.charged.push(reservationId);
    },
    async settle(reservationId: string, rec: JobRecord) {
      calls.settled.push(reservationId);
      await hooks.onSettle?.(rec);
    },
    async release(reservationId: string) {
      calls.released.push(reservationId);
    },
    async onFailure() {},
  } as unknown as JobMoney;
  return { money, calls };
}

async function setup() {
  const store = createJobStore({ redis, prefix: uniquePrefix("generate") });
  const storage = createLocalStorage({ root: await mkdtemp(join(dir, "data-")) });
  const id = newId("job");
  await store.create({ id, model: "acestep-ai/ace-step/text-to-audio", input: { tags: "claim test", duration: 5 }, created_at: new Date().toISOString() });
  return { store, storage, id };
}

function processor(ctx: { store: JobStore; storage: LocalStorage }, provider: ResilientProvider, money: JobMoney, resubmitAmbiguous = true) {
  return createGenerateProcessor({
    store: ctx.store,
    storage: ctx.storage,
    provider,
    money,
    resolveProviderInput: async (input) => input,
    speed: { current: () => 1_000, observe: () => undefined },
    settings: {
      polling: { minMs: 1, maxMs: 5, expectedSpeed: 1_000 },
      resubmitAmbiguous,
      submitLeaseMs: LEASE_MS,
      download: { maxBytes: 10_000_000, idleTimeoutMs: 5_000 },
    },
    logger,
  });
}

const run = (process: ReturnType<typeof createGenerateProcessor>, jobId: string) =>
  process({ job_id: jobId, model: "acestep-ai/ace-step/text-to-audio", input: { tags: "claim test", duration: 5 } }, { attempt: 1 });

/** What another worker sees once this worker's claim has lapsed (it stalled longer than the lease). */
const lapseClaim = (store: JobStore, jobId: string) => redis.hset(store.keys.job(jobId), "submit_lease_until", "0");

const storedFiles = async (storage: LocalStorage, jobId: string) => readdir(join(storage.root, "jobs", jobId)).catch(() => [] as string[]);

describe("generate processor: one paid request per job when two workers hold it", () => {
  it("keeps its submit claim while it waits long to send, so a second holder backs off instead of submitting too", async () => {
    const ctx = await setup();
    let second: Promise<unknown> | undefined;
    const { provider, sent } = fakeProvider({
      beforeSend: async () => {
        // Three leases pass before this worker sends; meanwhile a second worker takes the job.
        await new Promise((r) => setTimeout(r, LEASE_MS * 1.5));
        second = run(processor(ctx, fakeProvider().provider, fakeMoney(ctx.store).money), ctx.id).catch((err: unknown) => err);
        await new Promise((r) => setTimeout(r, LEASE_MS * 1.5));
      },
    });
    expect(await run(processor(ctx, provider, fakeMoney(ctx.store).money), ctx.id)).toBe("completed");
    expect(await second).toMatchObject({ name: "HandBack" });
    expect(sent).toEqual(["req-1"]);
    expect(await ctx.store.get(ctx.id)).toMatchObject({ status: "completed", request_id: "req-1", submit_state: "submitted" });
  });

  it("never sends once another worker took over its lapsed claim", async () => {
    const ctx = await setup();
    const other = fakeProvider();
    const { provider, sent } = fakeProvider({
      beforeSend: async () => {
        await lapseClaim(ctx.store, ctx.id);
        expect(await run(processor(ctx, other.provider, fakeMoney(ctx.store).money), ctx.id)).toBe("completed");
      },
    });
    const first = fakeMoney(ctx.store);
    await expect(run(processor(ctx, provider, first.money), ctx.id)).rejects.toBeInstanceOf(SubmitClaimLost);
    expect(sent).toEqual([]);
    expect(other.sent).toEqual(["req-1"]);
    expect(await ctx.store.get(ctx.id)).toMatchObject({ status: "completed", request_id: "req-1" });
    // Both reserved the same `<job>#1`: the one that lost leaves it to the holder, which settled it.
    expect(first.calls.released).toEqual([]);
  });

  it("cancels a request answered after its claim was taken over, and stores nothing for it", async () => {
    const ctx = await setup();
    const other = fakeProvider();
    const otherMoney = fakeMoney(ctx.store);
    const { provider, sent, cancelled } = fakeProvider({
      afterSend: async () => {
        // The answer is late: the claim lapsed mid-request and the next holder, which may not
        // resubmit an unknown outcome, charged it and failed the job.
        await lapseClaim(ctx.store, ctx.id);
        await expect(run(processor(ctx, other.provider, otherMoney.money, false), ctx.id)).rejects.toMatchObject({ code: "ambiguous_submission" });
      },
    });
    await expect(run(processor(ctx, provider, fakeMoney(ctx.store).money, false), ctx.id)).rejects.toBeInstanceOf(SubmitClaimLost);
    expect(sent).toEqual(["req-1"]);
    expect(other.sent).toEqual([]);
    expect(cancelled).toEqual(["req-1"]);
    expect(otherMoney.calls.charged).toEqual([`${ctx.id}#1`]);
    expect(await ctx.store.get(ctx.id)).toMatchObject({ status: "in_progress", request_id: null, submit_state: "ambiguous" });
    expect(await storedFiles(ctx.storage, ctx.id)).toEqual([]);
  });

  it("marks a throttled submit as not sent, so a crash while it waits to resend is no unknown outcome", async () => {
    const ctx = await setup();
    let stateWhileWaiting: string | undefined;
    const throttledOnce = {
      ...fakeProvider().provider,
      async submit(_model: string, _input: unknown, callCtx: CallContext) {
        await callCtx.onSend?.();
        await callCtx.onSubmitNotCreated?.();
        stateWhileWaiting = (await ctx.store.get(ctx.id))?.submit_state;
        await callCtx.onSend?.();
        return { requestId: "req-after-429" };
      },
    } as unknown as ResilientProvider;
    expect(await run(processor(ctx, throttledOnce, fakeMoney(ctx.store).money), ctx.id)).toBe("completed");
    expect(stateWhileWaiting).toBe("claimed");
  });
});

describe("generate processor: a job cancelled while its attempt starts", () => {
  it("is not sent, and the money held for it goes back", async () => {
    const ctx = await setup();
    const { provider, sent } = fakeProvider();
    const { money, calls } = fakeMoney(ctx.store, {
      // The owner cancels after the attempt began (the job still read queued) and before it is sent.
      onReserve: async (rec) => {
        await ctx.store.transition(rec.id, { from: ["queued"], to: "cancelled" });
      },
    });
    expect(await run(processor(ctx, provider, money), ctx.id)).toBe("already_finished");
    expect(sent).toEqual([]);
    expect(calls.released).toEqual([`${ctx.id}#1`]);
    expect(await ctx.store.get(ctx.id)).toMatchObject({ status: "cancelled", request_id: null, submit_state: "none" });
  });
});

describe("generate processor: stored audio belongs to a completed job", () => {
  it("removes the files it stored when the job ended elsewhere (failed) before this attempt could complete it", async () => {
    const ctx = await setup();
    const { money } = fakeMoney(ctx.store, {
      onSettle: async (rec) => {
        await ctx.store.transition(rec.id, { from: "*", to: "failed" });
      },
    });
    expect(await run(processor(ctx, fakeProvider().provider, money), ctx.id)).toBe("already_finished");
    expect((await ctx.store.get(ctx.id))!.status).toBe("failed");
    expect(await storedFiles(ctx.storage, ctx.id)).toEqual([]);
  });

  it("keeps them when another attempt completed the job with the same files", async () => {
    const ctx = await setup();
    const { money } = fakeMoney(ctx.store, {
      onSettle: async (rec) => {
        await ctx.store.transition(rec.id, { from: "*", to: "completed" });
      },
    });
    expect(await run(processor(ctx, fakeProvider().provider, money), ctx.id)).toBe("already_finished");
    expect((await storedFiles(ctx.storage, ctx.id)).sort()).toEqual(["metadata.json", "original.wav", "peaks.json"]);
  });
});
