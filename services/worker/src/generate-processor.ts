import {
  costForSeconds,
  DEFAULT_PRICES_MICRO_USD_PER_SECOND,
  isTerminalStatus,
  type JobStatus,
  type ModelId,
} from "@acebatch/contracts";
import { ProviderError, remoteRequestError } from "@acebatch/provider";
import type { GeneratePayload, JobRecord, JobStore } from "@acebatch/queue";
import { metadataKey, type ObjectStorage } from "@acebatch/storage";
import type { Logger } from "pino";
import type { ResilientProvider } from "./flow/resilient-provider.ts";
import type { JobMoney } from "./money/job-money.ts";
import { JobFailure } from "./job-failure.ts";
import { expectedOutputSeconds } from "./output-seconds.ts";
import { createPollSchedule, sleep, type PollSettings } from "./poll-schedule.ts";
import { storeOutput } from "./store-output.ts";
import { createJobSubmitter, EndedBeforeSend } from "./submit-job.ts";

export interface GenerateDeps {
  store: JobStore;
  provider: ResilientProvider;
  storage: ObjectStorage;
  money: JobMoney;
  resolveProviderInput: (input: Record<string, unknown>) => Promise<Record<string, unknown>>;
  speed: { current(): number; observe(outputSeconds: number, wallMs: number): void };
  settings: {
    polling: PollSettings;
    resubmitAmbiguous: boolean;
    /** How long a crashed worker's submit claim keeps the job (ms); a live holder renews it. */
    submitLeaseMs: number;
    download: { maxBytes: number; idleTimeoutMs: number };
    /** Columns of the waveform peaks made for WAV outputs as they are stored. */
    waveformColumns?: number;
    prices?: Readonly<Record<ModelId, number>>;
  };
  logger: Logger;
  now?: () => Date;
  /** Queue the finish run (waveform peaks when not made yet, the job's finish block) of a job whose output is stored. */
  enqueueFinish?: (jobId: string) => Promise<unknown>;
}

/** What a render found done on the first status look is taken to have needed, as a share of the wait. */
const FIRST_LOOK_SHRINK = 0.8;

export type GenerateOutcome = "completed" | "cancelled" | "already_finished";

/**
 * One attempt at one job: submit at most once per provider request, record the request id BEFORE
 * polling, poll until the provider is done, copy the audio into storage, complete the record.
 * A re-run (retry, stalled job, restart) finds the request id and resumes polling the SAME request.
 */
export function createGenerateProcessor(deps: GenerateDeps) {
  const now = deps.now ?? (() => new Date());
  const prices = deps.settings.prices ?? DEFAULT_PRICES_MICRO_USD_PER_SECOND;

  const submit = createJobSubmitter({ ...deps, now });

  /** Ask the provider to cancel; true when it stopped the request before any charge. */
  async function cancelAtProvider(rec: JobRecord, requestId: string, log: Logger, signal?: AbortSignal): Promise<boolean> {
    const { outcome } = await deps.provider.cancel(requestId, { logger: log, signal });
    log.info({ requestId, outcome }, "provider cancel answered");
    if (outcome === "cancelled") return true;
    // Too late to stop it: the render will be charged, so let it finish and keep the audio.
    await deps.store.update(rec.id, { cancel_requested: false });
    return false;
  }

  /**
   * Poll until the provider is done. Each look re-reads the record (a cancel may have been asked
   * for); the outcome carries the last record read, so the caller needs no read of its own.
   */
  async function pollUntilDone(
    rec: JobRecord,
    requestId: string,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<{ outcome: "completed" | "cancelled" | "failed"; rec: JobRecord }> {
    const outputSeconds = expectedOutputSeconds(rec.model, rec.input);
    const schedule = createPollSchedule(deps.settings.polling, outputSeconds, deps.speed.current());
    const startedAt = Date.now();
    // A render found done on the first look may have finished long before it, so observing that
    // look's time would feed the poll delay back into the speed estimate and polling could never
    // get faster again once it had slowed. Such a look observes a little less than it waited
    // (FIRST_LOOK_SHRINK), so the first look creeps earlier until it sometimes comes too soon;
    // a render that needed more looks observes the full time.
    let looks = 0;
    let lastStatus = rec.provider_status;
    let cancelHandled = false;
    let current = rec;
    for (;;) {
      await sleep(schedule.nextDelayMs(), signal);
      current = (await deps.store.get(rec.id)) ?? current;
      if (current.cancel_requested && !cancelHandled) {
        cancelHandled = true;
        if (await cancelAtProvider(rec, requestId, log, signal)) return { outcome: "cancelled", rec: current };
      }
      const status = await deps.provider.status(requestId, { logger: log, signal });
      if (status.status === "completed") {
        // The completion itself records provider_status; no separate write.
        const waitedMs = Date.now() - startedAt;
        deps.speed.observe(outputSeconds, looks === 0 ? waitedMs * FIRST_LOOK_SHRINK : waitedMs);
        return { outcome: "completed", rec: current };
      }
      if (status.status !== lastStatus || status.queuePosition !== current.queue_position) {
        lastStatus = status.status;
        await deps.store.update(rec.id, { provider_status: status.status, queue_position: status.queuePosition });
      }
      looks++;
      if (status.status === "cancelled") return { outcome: "cancelled", rec: current };
      if (status.status === "failed") return { outcome: "failed", rec: current };
    }
  }

  async function finishCancelled(id: string, message: string): Promise<GenerateOutcome> {
    const rec = await deps.store.get(id);
    if (rec?.reservation_id) await deps.money.release(rec.reservation_id);
    await deps.store.transition(id, {
      from: ["queued", "waiting_budget", "in_progress"],
      to: "cancelled",
      set: { finished_at: now().toISOString(), error: { code: "cancelled", exit_class: null, retryable: false, message } },
    });
    return "cancelled";
  }

  /**
   * The job reached a final state elsewhere while this attempt stored its audio (another worker
   * that took it over after a lost lock completed, failed or cancelled it). Completed: the files
   * are that completion's own (same keys). Otherwise no job points at them, so they are removed.
   */
  async function discardUnclaimedOutput(current: JobStatus | null, keys: (string | null)[], log: Logger): Promise<GenerateOutcome> {
    if (current === "completed") return "already_finished";
    log.warn({ status: current }, "the job ended elsewhere while this attempt stored its audio; removing the stored files");
    for (const key of keys) if (key) await deps.storage.delete(key);
    return "already_finished";
  }

  return async function processGenerate(
    payload: GeneratePayload,
    ctx: { attempt: number; signal?: AbortSignal; logger?: Logger },
  ): Promise<GenerateOutcome> {
    const log = (ctx.logger ?? deps.logger).child({ jobId: payload.job_id });
    let rec = await deps.store.get(payload.job_id);
    if (!rec) throw new JobFailure("invalid_payload", `job ${payload.job_id} has no record; it cannot be processed`);
    if (isTerminalStatus(rec.status)) return "already_finished";
    if (rec.cancel_requested && !rec.request_id) return finishCancelled(rec.id, "cancelled by request before it reached the provider");

    // A job shows in_progress once its money is reserved (in submit) or when it resumes a request.
    const resuming = rec.request_id !== null;
    const started = await deps.store.transition(rec.id, {
      from: ["queued", "waiting_budget", "in_progress"],
      to: resuming ? "in_progress" : undefined,
      set: { attempts: ctx.attempt, error: null },
    });
    if (!started.ok) return "already_finished";
    // What the transition just wrote; the poll's first look reads the whole record again.
    rec = { ...rec, attempts: ctx.attempt, error: null, status: resuming ? "in_progress" : rec.status };

    let requestId: string;
    try {
      requestId = rec.request_id ?? (await submit(rec, log, ctx.signal));
    } catch (err) {
      if (!(err instanceof EndedBeforeSend)) throw err;
      log.info({ status: err.status }, "the job ended before its submit left; not sending it");
      return "already_finished";
    }
    if (rec.request_id) log.info({ requestId }, "resuming the provider request recorded by an earlier attempt");

    const polled = await pollUntilDone(rec, requestId, log, ctx.signal);
    rec = polled.rec;
    const outcome = polled.outcome;
    if (outcome === "cancelled") return finishCancelled(rec.id, "cancelled at the provider before it rendered");

    if (outcome === "failed") {
      const result = await deps.provider.result(requestId, { logger: log, signal: ctx.signal });
      throw remoteRequestError(requestId, "failed", result.error);
    }
    try {
      return await storeAndComplete(rec, requestId, log, ctx.signal);
    } catch (err) {
      // The provider rendered this request, so it is billed, whatever goes wrong from here on
      // (the result fetch, the download, storage). The completion would have recorded that; a
      // job that fails instead must still say so, or its failure would give the money back.
      // Exit class 1 is the one exception: the result says the request failed, and nothing was billed.
      if (err instanceof ProviderError && err.exitClass === 1) throw err;
      await deps.store.transition(rec.id, { from: ["in_progress"], set: { provider_status: "completed" } }).catch((writeErr: unknown) => {
        log.error({ err: writeErr }, "could not record that the provider completed the render");
      });
      throw err;
    }
  };

  /** Fetch the finished request's result, copy its audio into storage, settle its money and complete the job. */
  async function storeAndComplete(rec: JobRecord, requestId: string, log: Logger, signal?: AbortSignal): Promise<GenerateOutcome> {
    const result = await deps.provider.result(requestId, { logger: log, signal });
    if (result.status === "failed") throw remoteRequestError(requestId, "failed", result.error);
    if (!result.audioUrl) {
      throw new ProviderError({
        message: `the provider finished request ${requestId} but its result has no audio URL`,
        exitClass: 69,
        code: "provider_invalid_response",
        retryable: true,
        call: "result",
      });
    }
    const seed = result.seed ?? (typeof rec.input.seed === "number" && rec.input.seed >= 0 ? rec.input.seed : null);
    const providerCost = result.costMicroUsd;
    const { output, waveformKey } = await storeOutput(rec, result.audioUrl, { seed, costMicroUsd: providerCost }, {
      storage: deps.storage,
      ...deps.settings.download,
      waveformColumns: deps.settings.waveformColumns ?? 800,
      logger: log,
      signal,
    });
    const cost = providerCost ?? costForSeconds(output.duration_seconds, prices[rec.model]);
    if (rec.reservation_id) await deps.money.settle(rec.reservation_id, rec, cost, output.duration_seconds);
    const completion = await deps.store.transition(rec.id, {
      from: ["in_progress"],
      to: "completed",
      set: {
        output,
        waveform_key: waveformKey,
        cost_micro_usd: cost,
        provider_status: "completed",
        queue_position: null,
        finished_at: now().toISOString(),
        error: null,
      },
    });
    if (!completion.ok) {
      const current = completion.reason === "not_allowed" ? completion.current : null;
      return discardUnclaimedOutput(current, [output.storage_key, metadataKey(rec.id), waveformKey], log);
    }
    log.info({ requestId, seconds: output.duration_seconds, costMicroUsd: cost }, "job completed");
    // Only now that the paid output is stored and the job completed; a failure here never fails the job.
    // A WAV output without a finish block is already done: its peaks were made as it was stored.
    if (rec.finish !== null || waveformKey === null) {
      await deps.enqueueFinish?.(rec.id).catch((err: unknown) => log.error({ err }, "could not queue the finish run"));
    }
    return "completed";
  }
}
