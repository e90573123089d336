/**
 * Event timestamps within the last `windowMs`, for the rate limiter and the peak-rate statistic.
 * Amortised O(1) per event: timestamps only ever leave from the front.
 */
export interface SlidingWindow {
  /** Drop events older than the window ending at `nowMs`; return how many remain. */
  countAt(nowMs: number): number;
  add(nowMs: number): void;
  clear(): void;
}

export function createSlidingWindow(windowMs = 1000): SlidingWindow {
  let times: number[] = [];
  let head = 0;
  const expire = (nowMs: number): void => {
    while (head < times.length && times[head]! <= nowMs - windowMs) head++;
    if (head > 4096 && head * 2 > times.length) {
      times = times.slice(head);
      head = 0;
    }
  };
  return {
    countAt(nowMs) {
      expire(nowMs);
      return times.length - head;
    },
    add(nowMs) {
      times.push(nowMs);
    },
    clear() {
      times = [];
      head = 0;
    },
  };
}
