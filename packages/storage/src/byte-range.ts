import type { ByteRange } from "./object-storage.ts";

/** Throw a RangeError unless `range` is integers with 0 <= start <= end (inclusive, as in HTTP). */
export function assertValidRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${start}-${end}: need integers with 0 <= start <= end`);
  }
}
