import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { WaveformPeaks } from "@acebatch/audio";
import type { StoredOutput } from "@acebatch/queue";
import { assertValidKey, type ObjectStorage } from "@acebatch/storage";
import type { Redis } from "ioredis";
import { sleep } from "./poll-schedule.ts";

/** A failure of a finish run outside ffmpeg, with a stable code like FinishError's. */
export class FinishRunError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = "FinishRunError";
    this.code = code;
    this.retryable = options.retryable;
  }
}

/** Storage keys of what finishing stores beside `jobs/{id}/original.{ext}`. */
export const finishKeys = {
  /** Waveform peaks of the original. */
  peaks: (jobId: string) => checked(`jobs/${jobId}/peaks.json`),
  finished: (jobId: string, ext: string) => checked(`jobs/${jobId}/finished.${ext}`),
  finishedPeaks: (jobId: string) => checked(`jobs/${jobId}/finished.peaks.json`),
};

function checked(key: string): string {
  assertValidKey(key);
  return key;
}

/** The stored JSON of a waveform (what GET /v1/jobs/{id}/waveform serves). */
export function toStoredPeaks(peaks: WaveformPeaks) {
  return { columns: peaks.columns, sample_rate: peaks.sampleRate, duration_seconds: peaks.durationSeconds, peaks: peaks.peaks };
}

const WORK_DIR_PREFIX = "finish-";
/** Work directories older than this were left by a killed run (a run takes minutes at most). */
const STALE_WORK_DIR_MS = 6 * 60 * 60 * 1000;

/**
 * A fresh work directory beside the storage's own scratch files (for the local driver the same
 * filesystem, so storing a finished file is one rename). Leftovers of killed runs are swept here.
 */
export async function createWorkDir(storage: ObjectStorage, jobId: string): Promise<string> {
  const scratch = dirname(await storage.tempFilePath());
  const now = Date.now();
  for (const entry of await readdir(scratch, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory() || !entry.name.startsWith(WORK_DIR_PREFIX)) continue;
    const path = join(scratch, entry.name);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: now }));
    if (now - mtimeMs > STALE_WORK_DIR_MS) await rm(path, { recursive: true, force: true });
  }
  const dir = join(scratch, `${WORK_DIR_PREFIX}${jobId}-${randomBytes(6).toString("hex")}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Copy the stored original to `destPath` for ffmpeg to read, checking it is still the file we
 * stored (its sha256). The stored object itself is only ever read.
 */
export async function copyOriginal(storage: ObjectStorage, output: StoredOutput, destPath: string, signal?: AbortSignal): Promise<void> {
  if (!(await storage.exists(output.storage_key))) {
    throw new FinishRunError("original_missing", `the original ${output.storage_key} is no longer in storage`, { retryable: false });
  }
  const hash = createHash("sha256");
  await pipeline(
    storage.createReadStream(output.storage_key),
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(destPath),
    { signal },
  );
  const sha256 = hash.digest("hex");
  if (sha256 !== output.sha256) {
    throw new FinishRunError("original_corrupt", `the stored original ${output.storage_key} has sha256 ${sha256}, not the recorded ${output.sha256}`, {
      retryable: false,
    });
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Run `work` holding a short Redis lock, so two finish runs of one job never interleave their
 * file replacements and record update. A holder that died frees it after `ttlMs`.
 */
export async function withLock<T>(redis: Redis, key: string, ttlMs: number, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const token = randomBytes(12).toString("hex");
  const giveUpAt = Date.now() + 2 * ttlMs;
  while ((await redis.set(key, token, "PX", ttlMs, "NX")) !== "OK") {
    if (Date.now() > giveUpAt) {
      throw new FinishRunError("commit_busy", `another finish run of this job held ${key} for over ${(2 * ttlMs) / 1000} s`, { retryable: true });
    }
    await sleep(100, signal);
  }
  try {
    return await work();
  } finally {
    await redis.eval(RELEASE_LOCK, 1, key, token);
  }
}
