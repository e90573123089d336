/** A satisfiable single byte range, both ends inclusive. */
export interface SatisfiableRange {
  start: number;
  end: number;
}

/**
 * Read a `Range` header against a file of `size` bytes (RFC 9110 §14): a single satisfiable
 * `bytes=` range, "unsatisfiable" (answer 416), or null to serve the whole file. A header this
 * server does not act on (absent, another unit, several ranges, malformed, last < first) is
 * ignored, as the RFC allows; only a well-formed range that misses the file is refused.
 */
export function parseRange(header: string | undefined, size: number): SatisfiableRange | "unsatisfiable" | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    // Suffix range: the last N bytes.
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const last = match[2] === "" ? Infinity : Number(match[2]);
  if (last < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(last, size - 1) };
}
