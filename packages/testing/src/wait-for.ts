export interface WaitForOptions {
  /** Give up after this many milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Pause between attempts in milliseconds (default 50). */
  intervalMs?: number;
  /** What is being waited for, for the timeout error ("the batch to complete"). */
  message?: string;
}

/**
 * Call `fn` until it returns something other than `undefined`, `null` or `false`, and return that.
 * A throw counts as "not yet" (the last one is quoted in the timeout error), so `fn` may race the
 * thing it waits for.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    attempts += 1;
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value;
      lastValue = value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
  const what = options.message ?? "a condition";
  const last =
    lastError !== undefined
      ? `last attempt threw: ${lastError instanceof Error ? lastError.message : String(lastError)}`
      : `last attempt returned ${String(lastValue)}`;
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (${attempts} attempts; ${last})`, {
    cause: lastError,
  });
}
