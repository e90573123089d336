import { BatchInputError } from "./errors.ts";

/** Limits of one upload. */
export interface BatchLimits {
  /** Most rows (jobs, after expanding variations) one batch may hold. */
  maxRows: number;
  /** Most bytes one uploaded file may have. */
  maxBytes: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxRows: 100_000, maxBytes: 50 * 1024 * 1024 };

/** Bytes as a short human figure (`50 MB`, `512 KB`). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}

export function fileTooLarge(maxBytes: number): BatchInputError {
  return new BatchInputError(
    "file_too_large",
    `the upload is larger than the limit of ${maxBytes} bytes (${formatBytes(maxBytes)}); split it into several batches`,
  );
}

export function tooManyRows(maxRows: number): BatchInputError {
  return new BatchInputError(
    "too_many_rows",
    `the batch has more than ${maxRows} rows (the limit per batch, counting each variation as a row); split it into several batches`,
  );
}

/**
 * Pass chunks through, failing with a 413 error as soon as more than `maxBytes` have gone by, so an
 * oversized upload is refused without being read to the end. `onChunk` sees every chunk (hashing).
 */
export async function* limitBytes(
  source: AsyncIterable<Uint8Array | string>,
  maxBytes: number,
  onChunk?: (chunk: Buffer) => void,
): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const raw of source) {
    const chunk = typeof raw === "string" ? Buffer.from(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    seen += chunk.length;
    if (seen > maxBytes) throw fileTooLarge(maxBytes);
    onChunk?.(chunk);
    yield chunk;
  }
}
