import { mkdir, stat as statFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough, pipeline, type Readable } from "node:stream";

import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

import { assertValidRange } from "./byte-range.ts";
import { assertValidContentType, contentTypeForKey } from "./content-type.ts";
import { scratchPath, sweepDir, unlinkIfExists } from "./local-fs.ts";
import type { ByteRange, ObjectStorage, StoredObjectInfo } from "./object-storage.ts";
import { createS3Clients, DEADLINE_EXCEEDED, isMissingObject, isUnsatisfiableRange, objectNotFound, type S3ConnectionOptions, withDeadline } from "./s3-client.ts";
import { MIN_PART_BYTES, uploadFile } from "./s3-upload.ts";
import { assertValidKey, StorageKeyError } from "./storage-keys.ts";

export interface S3StorageOptions extends S3ConnectionOptions {
  bucket: string;
  /**
   * The endpoint that presigned URLs point at, when the one we connect to is not reachable by
   * whoever fetches them (e.g. `http://minio:9000` inside docker compose). Defaults to `endpoint`.
   */
  publicEndpoint?: string;
  /** Prepended to every key, e.g. `acebatch/` (a trailing `/` is added when missing). */
  prefix?: string;
  /** Local directory for `tempFilePath()` (downloads before upload); created on first use. */
  tempDir: string;
  /** Milliseconds; defaults in brackets. */
  timeouts?: {
    /** TCP connect [5,000]. */
    connectMs?: number;
    /** Socket inactivity, also while a body streams [30,000]. */
    idleMs?: number;
    /** Whole request without a body to upload, and time to first byte of a read [30,000]. */
    requestMs?: number;
    /** One upload request: a whole small file or one part [300,000]. */
    uploadMs?: number;
  };
  multipart?: {
    /** Files larger than this are uploaded in parts, bytes [16 MiB]. */
    thresholdBytes?: number;
    /** Bytes per part, at least 5 MiB [8 MiB]. */
    partSizeBytes?: number;
    /** Parts in flight per file [4]. */
    concurrency?: number;
  };
  /** Connections kept to the endpoint; every open read stream holds one [256]. */
  maxSockets?: number;
}

export interface S3Storage extends ObjectStorage {
  readonly bucket: string;
  /** The key prefix, `""` or ending in `/`. */
  readonly prefix: string;
  presignedGetUrl(key: string, ttlSeconds: number): Promise<string>;
  /** Delete local temp files last modified more than `olderThanMs` milliseconds ago; returns how many. */
  sweepTempFiles(olderThanMs: number, nowMs?: number): Promise<number>;
  /** Close the connection pool (tests; a process that exits need not call it). */
  destroy(): void;
}

/** The longest a SigV4 presigned URL may live, seconds. */
const MAX_PRESIGN_TTL_SECONDS = 7 * 24 * 3_600;

/**
 * Objects in an S3-compatible bucket (AWS S3, MinIO, ...). Same keys and guarantees as the local
 * driver: a PUT or a completed multipart upload is the only way an object appears, so readers never
 * see a partial one. The content type is the object's `Content-Type`.
 */
export function createS3Storage(options: S3StorageOptions): S3Storage {
  if (!options.bucket) throw new TypeError("createS3Storage: bucket is required");
  if (!options.tempDir) throw new TypeError("createS3Storage: tempDir is required");
  const prefix = normalisePrefix(options.prefix);
  const tempDir = path.resolve(options.tempDir);
  const bucket = options.bucket;
  const timeouts = { connectMs: 5_000, idleMs: 30_000, requestMs: 30_000, uploadMs: 300_000, ...options.timeouts };
  const multipart = { thresholdBytes: 16 * 1024 * 1024, partSizeBytes: 8 * 1024 * 1024, concurrency: 4, ...options.multipart };
  if (multipart.partSizeBytes < MIN_PART_BYTES) throw new RangeError(`createS3Storage: partSizeBytes must be at least ${MIN_PART_BYTES} (S3's minimum)`);
  const clients = createS3Clients(options, { timeouts, maxSockets: options.maxSockets ?? 256, publicEndpoint: options.publicEndpoint });
  const { client } = clients;

  function objectKey(key: string): string {
    assertValidKey(key);
    return prefix + key;
  }
  /** One call without an upload body, bounded by `timeouts.requestMs`. */
  const call = <T>(what: string, send: (abortSignal: AbortSignal) => Promise<T>) => withDeadline(what, timeouts.requestMs, send);

  async function head(key: string): Promise<StoredObjectInfo | null> {
    try {
      const target = objectKey(key);
      const out = await call(`HEAD ${target}`, (abortSignal) => client.send(new HeadObjectCommand({ Bucket: bucket, Key: target }), { abortSignal }));
      return { bytes: out.ContentLength ?? 0, contentType: out.ContentType || contentTypeForKey(key) };
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw error;
    }
  }

  return {
    bucket,
    prefix,

    async tempFilePath() {
      await mkdir(tempDir, { recursive: true });
      return scratchPath(tempDir, ".part");
    },

    async putFile(key, srcPath, { contentType }) {
      const target = objectKey(key);
      assertValidContentType(contentType);
      const { size } = await statFile(srcPath);
      await uploadFile({ client, uploadClient: clients.uploadClient, bucket, objectKey: target, contentType }, srcPath, size, {
        multipartThresholdBytes: multipart.thresholdBytes,
        partSizeBytes: multipart.partSizeBytes,
        concurrency: multipart.concurrency,
        uploadTimeoutMs: timeouts.uploadMs,
        requestTimeoutMs: timeouts.requestMs,
      });
      await unlinkIfExists(srcPath);
      return { bytes: size };
    },

    async putJson(key, value) {
      const target = objectKey(key);
      const text = JSON.stringify(value, null, 2);
      if (text === undefined) throw new TypeError(`putJson(${key}): value is not JSON-serialisable`);
      await call(`PUT ${target}`, (abortSignal) =>
        client.send(new PutObjectCommand({ Bucket: bucket, Key: target, Body: `${text}\n`, ContentType: "application/json" }), { abortSignal }),
      );
    },

    async getJson<T>(key: string): Promise<T | null> {
      const target = objectKey(key);
      let text: string;
      try {
        // The deadline covers reading the body too.
        text = await call(`GET ${target}`, async (abortSignal) => {
          const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: target }), { abortSignal });
          return (await out.Body?.transformToString("utf8")) ?? "";
        });
      } catch (error) {
        if (isMissingObject(error)) return null;
        throw error;
      }
      return JSON.parse(text) as T;
    },

    stat: head,

    createReadStream(key, range) {
      const target = objectKey(key);
      if (range !== undefined) assertValidRange(range);
      return openReadStream(target, key, range);
    },

    async delete(key) {
      // S3 answers 204 for a key that is not there, so this is idempotent as it stands.
      const target = objectKey(key);
      await call(`DELETE ${target}`, (abortSignal) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: target }), { abortSignal }));
    },

    async exists(key) {
      return (await head(key)) !== null;
    },

    async presignedGetUrl(key, ttlSeconds) {
      const target = objectKey(key);
      if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_PRESIGN_TTL_SECONDS) {
        throw new RangeError(`presignedGetUrl: ttlSeconds must be a whole number from 1 to ${MAX_PRESIGN_TTL_SECONDS}`);
      }
      return getSignedUrl(clients.presignClient, new GetObjectCommand({ Bucket: bucket, Key: target }), { expiresIn: ttlSeconds });
    },

    sweepTempFiles(olderThanMs, nowMs = Date.now()) {
      return sweepDir(tempDir, olderThanMs, nowMs);
    },

    destroy() {
      clients.destroy();
    },
  };

  /**
   * The interface hands back a stream synchronously, so the GET runs behind a PassThrough: its
   * failures (a missing object as ENOENT) arrive as the stream's `error`, and destroying the stream
   * (the HTTP client went away) aborts the GET so its connection is not held.
   */
  function openReadStream(target: string, key: string, range: ByteRange | undefined): Readable {
    const out = new PassThrough();
    const abort = new AbortController();
    const timedOut = Object.assign(new Error(`S3 GET ${target}: no answer within ${timeouts.requestMs} ms`), { name: "TimeoutError", code: DEADLINE_EXCEEDED });
    const firstByte = setTimeout(() => abort.abort(timedOut), timeouts.requestMs);
    out.once("close", () => {
      clearTimeout(firstByte);
      abort.abort();
    });
    const command = new GetObjectCommand({ Bucket: bucket, Key: target, Range: range && `bytes=${range.start}-${range.end}` });
    client.send(command, { abortSignal: abort.signal }).then(
      (response) => {
        clearTimeout(firstByte);
        const body = response.Body as Readable | undefined;
        if (!body) out.end();
        else if (!range) pipeline(body, out, () => undefined);
        // A server that ignored the Range header sent the whole object (no Content-Range).
        else pipeline(body, sliceBytes(response.ContentRange ? 0 : range.start, range.end - range.start + 1), out, () => undefined);
      },
      (error: unknown) => {
        clearTimeout(firstByte);
        if (out.destroyed) return;
        // A range that starts past the end reads as empty, as a file stream's would.
        if (isUnsatisfiableRange(error)) out.end();
        else if (abort.signal.reason === timedOut) out.destroy(timedOut);
        else out.destroy(isMissingObject(error) ? objectNotFound(key) : (error as Error));
      },
    );
    return out;
  }
}

/**
 * Skip `skip` bytes, then pass at most `take`. Callers announce the range's length (HTTP
 * Content-Length), so a store that sends more than was asked for must not reach them.
 */
function sliceBytes(skip: number, take: number) {
  return async function* (source: AsyncIterable<Buffer>) {
    let toSkip = skip;
    let left = take;
    for await (const chunk of source) {
      const from = Math.min(toSkip, chunk.length);
      toSkip -= from;
      const piece = chunk.subarray(from, from + left);
      left -= piece.length;
      if (piece.length > 0) yield piece;
      if (left === 0) return;
    }
  };
}

function normalisePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === "" || prefix === "/") return "";
  const trimmed = prefix.replace(/^\/+|\/+$/g, "");
  try {
    assertValidKey(trimmed);
  } catch (error) {
    if (error instanceof StorageKeyError) throw new StorageKeyError(prefix, `is not a valid key prefix (${error.message})`);
    throw error;
  }
  return `${trimmed}/`;
}
