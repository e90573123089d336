const DELAY_SECONDS = /^\s*(-?\d+(?:\.\d+)?)\s*$/;
// IMF-fixdate, RFC 850 and asctime all start with a day name; requiring one keeps Date.parse's
// leniency ("1" → 2001) away from header values that are not dates.
const HTTP_DATE = /^\s*(mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+\S/i;

/**
 * The delay a `Retry-After` header asks for, in milliseconds: delay-seconds or an HTTP-date
 * (relative to `nowMs`). A delay in the past or a negative number gives 0; anything else gives null.
 */
export function parseRetryAfter(headerValue: string | null | undefined, nowMs: number): number | null {
  if (headerValue === null || headerValue === undefined) return null;
  const seconds = DELAY_SECONDS.exec(headerValue);
  if (seconds) {
    const ms = Math.ceil(Number(seconds[1]) * 1000);
    return Number.isFinite(ms) ? Math.max(0, ms) : null;
  }
  if (!HTTP_DATE.test(headerValue)) return null;
  const at = Date.parse(headerValue);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}
