import { randomInt, randomUUID } from "node:crypto";
import {
  AUDIO_OUTPAINT,
  costForSeconds,
  DEFAULT_PRICES_MICRO_USD_PER_SECOND,
  MAX_SEED,
  takesSourceAudio,
  type AudioOutpaintInput,
  type ModelId,
} from "@acebatch/contracts";

import { createFifoQueue } from "./fifo-queue.ts";
import { createMinHeap } from "./min-heap.ts";
import type { ProviderInput } from "./provider-inputs.ts";
import type { SimConfig } from "./sim-config.ts";

export const SIM_STATUSES = ["in_queue", "in_progress", "completed", "failed", "cancelled"] as const;
export type SimStatus = (typeof SIM_STATUSES)[number];

/** Finished requests kept before the oldest are forgotten (they then answer 404001, like expired ones). */
export const DEFAULT_MAX_RETAINED_REQUESTS = 250_000;

/** Longest source the provider accepts, in seconds (60 minutes). */
export const MAX_SOURCE_SECONDS = 3_600;

/** One provider request. Times are ms from the store's clock. */
export interface SimRequest {
  id: string;
  model: ModelId;
  input: ProviderInput;
  /** The seed rendered with: the input's, or the random one drawn at submit for -1. */
  seed: number;
  tags: string;
  /** sha256 of the submitting token, for the 403001 "belongs to another user" check. */
  ownerKey: string | null;
  status: SimStatus;
  /** False while the source of an inpaint/outpaint is still being fetched (the request shows in_queue). */
  ready: boolean;
  ticket: number | null;
  sourceSeconds: number | null;
  outputSeconds: number | null;
  willFail: boolean;
  sampleRate: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  costMicroUsd: number;
}

export interface SubmitArgs {
  model: ModelId;
  input: ProviderInput;
  ownerKey: string | null;
  willFail: boolean;
}

export interface RequestStore {
  submit(args: SubmitArgs): SimRequest;
  /** The request after bringing the simulation up to now; `expired` once past `result_ttl_seconds`. */
  get(id: string): { request: SimRequest; expired: boolean } | undefined;
  queuePosition(request: SimRequest): number | null;
  /** Cancel while queued; anything else is not cancellable. */
  cancel(request: SimRequest): "cancelled" | "not_cancellable";
  /** The source was measured: the request may now wait for a render slot. */
  sourceMeasured(request: SimRequest, seconds: number): void;
  sourceFailed(request: SimRequest, message: string): void;
  /** Run every start/finish due by now. */
  advance(): void;
  counts(): Record<SimStatus, number>;
  billing(): { seconds: number; microUsd: number };
  peakConcurrent(): number;
  all(): IterableIterator<SimRequest>;
  clear(): void;
}

export function createRequestStore(deps: { now: () => number; config: () => SimConfig; maxRetained?: number }): RequestStore {
  const { now, config } = deps;
  const maxRetained = deps.maxRetained ?? DEFAULT_MAX_RETAINED_REQUESTS;
  const requests = new Map<string, SimRequest>();
  const queue = createFifoQueue<SimRequest>();
  const running = createMinHeap<SimRequest>();
  let counts = Object.fromEntries(SIM_STATUSES.map((s) => [s, 0])) as Record<SimStatus, number>;
  let billedSeconds = 0;
  let billedMicroUsd = 0;
  let peak = 0;

  const setStatus = (request: SimRequest, status: SimStatus): void => {
    counts[request.status]--;
    counts[status]++;
    request.status = status;
  };

  const fail = (request: SimRequest, at: number, message: string): void => {
    setStatus(request, "failed");
    request.finishedAt = at;
    request.error = message;
  };

  const finish = (request: SimRequest, at: number): void => {
    request.finishedAt = at;
    if (request.willFail) {
      fail(request, at, "simulated generation failure");
      return;
    }
    setStatus(request, "completed");
    const seconds = request.outputSeconds!;
    request.costMicroUsd = costForSeconds(seconds, DEFAULT_PRICES_MICRO_USD_PER_SECOND[request.model]);
    billedSeconds += seconds;
    billedMicroUsd += request.costMicroUsd;
  };

  // Fill free render slots at time `at` (when a slot freed, or now).
  const startQueued = (at: number): void => {
    const { max_concurrent, speed, sample_rate } = config();
    while (running.size < max_concurrent && queue.size > 0) {
      const request = queue.shift()!;
      request.ticket = null;
      setStatus(request, "in_progress");
      request.startedAt = at;
      request.sampleRate = sample_rate;
      const renderMs = speed > 0 ? (request.outputSeconds! / speed) * 1000 : 0;
      running.push(at + renderMs, request);
      peak = Math.max(peak, running.size);
    }
  };

  // Exact event simulation, driven lazily: renders finish at their own times and the slots they
  // free are refilled at those times, however late someone asks. No timer per request.
  const advance = (): void => {
    const t = now();
    for (;;) {
      const due = running.peekKey();
      if (due === undefined || due > t) break;
      const { key, value } = running.pop()!;
      finish(value, key);
      startQueued(key);
    }
    startQueued(t);
  };

  const enqueue = (request: SimRequest): void => {
    request.ready = true;
    request.ticket = queue.push(request);
    startQueued(now());
  };

  const isTerminal = (request: SimRequest): boolean =>
    request.status === "completed" || request.status === "failed" || request.status === "cancelled";

  // A long-running embedded simulator must not grow without bound: forget the oldest finished
  // requests in batches of a tenth, so the scan is amortised over many submits.
  const evictFinished = (): void => {
    if (requests.size <= maxRetained) return;
    let excess = requests.size - Math.floor(maxRetained * 0.9);
    for (const [id, request] of requests) {
      if (excess <= 0) break;
      if (!isTerminal(request)) continue;
      requests.delete(id); // counts stay: requests_by_status covers every request since the last reset
      excess--;
    }
  };

  // False once the request was cancelled while its source was being fetched, or the store was reset.
  const awaitingSource = (request: SimRequest): boolean =>
    requests.get(request.id) === request && request.status === "in_queue" && !request.ready;

  const outputSecondsFor = (request: SimRequest, sourceSeconds: number): number => {
    if (request.model === AUDIO_OUTPAINT) {
      const input = request.input as AudioOutpaintInput;
      return sourceSeconds + input.extend_before_duration + input.extend_after_duration;
    }
    return sourceSeconds; // inpaint regenerates a region and returns the whole track
  };

  return {
    submit({ model, input, ownerKey, willFail }) {
      advance();
      const at = now();
      const request: SimRequest = {
        id: randomUUID(),
        model,
        input,
        seed: input.seed === -1 ? randomInt(0, MAX_SEED) : input.seed,
        tags: input.tags,
        ownerKey,
        status: "in_queue",
        ready: false,
        ticket: null,
        sourceSeconds: null,
        outputSeconds: "duration" in input ? input.duration : null,
        willFail,
        sampleRate: config().sample_rate,
        createdAt: at,
        startedAt: null,
        finishedAt: null,
        error: null,
        costMicroUsd: 0,
      };
      requests.set(request.id, request);
      counts.in_queue++;
      evictFinished();
      if (!takesSourceAudio(model)) enqueue(request);
      return request;
    },
    get(id) {
      advance();
      const request = requests.get(id);
      if (request === undefined) return undefined;
      const ttl = config().result_ttl_seconds;
      const expired = ttl !== null && request.finishedAt !== null && now() - request.finishedAt > ttl * 1000;
      return { request, expired };
    },
    queuePosition(request) {
      if (request.status !== "in_queue") return null;
      return request.ticket === null ? queue.size : queue.position(request.ticket);
    },
    cancel(request) {
      advance();
      if (request.status !== "in_queue") return "not_cancellable";
      if (request.ticket !== null) queue.remove(request.ticket);
      request.ticket = null;
      setStatus(request, "cancelled");
      request.finishedAt = now();
      return "cancelled";
    },
    sourceMeasured(request, seconds) {
      advance();
      if (!awaitingSource(request)) return;
      request.sourceSeconds = seconds;
      const output = outputSecondsFor(request, seconds);
      const cap = config().max_output_seconds;
      if (seconds > MAX_SOURCE_SECONDS) {
        fail(request, now(), `source audio is ${seconds.toFixed(1)} s long; at most ${MAX_SOURCE_SECONDS / 60} minutes are accepted`);
      } else if (request.model === AUDIO_OUTPAINT && cap !== null && output > cap) {
        fail(request, now(), `outpaint result would be ${output.toFixed(1)} s; keep source + extensions at or under ${cap} s`);
      } else {
        request.outputSeconds = output;
        enqueue(request);
      }
    },
    sourceFailed(request, message) {
      advance();
      if (!awaitingSource(request)) return;
      fail(request, now(), message);
    },
    advance,
    counts: () => ({ ...counts }),
    billing: () => ({ seconds: billedSeconds, microUsd: billedMicroUsd }),
    peakConcurrent: () => peak,
    all: () => requests.values(),
    clear() {
      requests.clear();
      queue.clear();
      running.clear();
      counts = Object.fromEntries(SIM_STATUSES.map((s) => [s, 0])) as Record<SimStatus, number>;
      billedSeconds = 0;
      billedMicroUsd = 0;
      peak = 0;
    },
  };
}
