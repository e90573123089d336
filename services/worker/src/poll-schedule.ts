/**
 * When to ask the provider about a request again. The first look comes when the audio is expected
 * to be ready (requested seconds ÷ observed render speed), later looks back off geometrically, so a
 * 240 s render costs a handful of status calls instead of one every two seconds.
 */
export interface PollSettings {
  minMs: number;
  maxMs: number;
  /** Audio seconds the provider renders per wall-clock second, before anything is observed. */
  expectedSpeed: number;
}

const BACKOFF_FACTOR = 1.6;

export function createPollSchedule(settings: PollSettings, outputSeconds: number, speed: number) {
  const clamp = (ms: number) => Math.min(settings.maxMs, Math.max(settings.minMs, Math.round(ms)));
  let next = clamp((outputSeconds / Math.max(speed, 0.001)) * 1_000);
  return {
    /** Milliseconds to wait before the next status call. */
    nextDelayMs(): number {
      const delay = next;
      next = clamp(next * BACKOFF_FACTOR);
      return delay;
    },
  };
}

/**
 * The provider's observed speed (audio seconds per wall second), as an exponentially weighted
 * moving average of finished renders, so polling adapts to how fast the provider really is.
 */
export function createSpeedTracker(initial: number, weight = 0.2) {
  let speed = initial;
  return {
    current: () => speed,
    observe(outputSeconds: number, wallMs: number) {
      if (outputSeconds <= 0 || wallMs <= 0) return;
      const observed = Math.min(outputSeconds / (wallMs / 1_000), 10_000);
      speed = speed * (1 - weight) + observed * weight;
    },
  };
}

/** Sleep that ends early (rejecting) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
