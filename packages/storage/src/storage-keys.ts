/** A key that would not stay inside the storage root, or that we cannot store. */
export class StorageKeyError extends Error {
  readonly key: string;

  constructor(key: string, reason: string) {
    super(`invalid storage key ${JSON.stringify(key.slice(0, 200))}: ${reason}`);
    this.name = "StorageKeyError";
    this.key = key;
  }
}

export const MAX_KEY_LENGTH = 1_024;

/**
 * Reject every key that could escape the storage root or collide with the driver's own files:
 * empty, absolute, backslashes, NUL, empty / `.` / `..` segments, and segments that start with `.`
 * (the local driver keeps `.tmp/` and `.meta/` beside the objects).
 */
export function assertValidKey(key: unknown): asserts key is string {
  if (typeof key !== "string") throw new StorageKeyError(String(key), "must be a string");
  if (key.length === 0) throw new StorageKeyError(key, "must not be empty");
  if (key.length > MAX_KEY_LENGTH) throw new StorageKeyError(key, `must be at most ${MAX_KEY_LENGTH} characters`);
  if (key.includes("\0")) throw new StorageKeyError(key, "must not contain NUL");
  if (key.includes("\\")) throw new StorageKeyError(key, "must not contain backslashes (use / between segments)");
  if (key.startsWith("/")) throw new StorageKeyError(key, "must be relative, not start with /");
  for (const segment of key.split("/")) {
    if (segment === "") throw new StorageKeyError(key, "must not contain empty segments (// or a trailing /)");
    if (segment === "..") throw new StorageKeyError(key, "must not contain .. segments");
    if (segment.startsWith(".")) throw new StorageKeyError(key, "segments must not start with . (reserved)");
  }
}

const SAFE_JOB_ID = /^[A-Za-z0-9_-]{1,200}$/;
const SAFE_EXT = /^[a-z0-9]{1,8}$/;

function assertJobId(jobId: string): void {
  if (!SAFE_JOB_ID.test(jobId)) throw new StorageKeyError(String(jobId), "job id must be letters, digits, _ or -");
}

/** `jobs/{jobId}/original.{ext}`: the untouched provider output of a job. */
export function audioKey(jobId: string, ext: string): string {
  assertJobId(jobId);
  if (!SAFE_EXT.test(ext)) throw new StorageKeyError(`jobs/${jobId}/original.${ext}`, "extension must be 1-8 lower-case letters or digits");
  return `jobs/${jobId}/original.${ext}`;
}

/** `jobs/{jobId}/metadata.json`: the `StoredAudioMetadata` sidecar beside a job's audio. */
export function metadataKey(jobId: string): string {
  assertJobId(jobId);
  return `jobs/${jobId}/metadata.json`;
}
