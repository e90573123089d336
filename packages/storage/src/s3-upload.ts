import { createReadStream, type ReadStream } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";

import { isRetryableS3Error, withDeadline } from "./s3-client.ts";

/** S3's limits: parts of at least 5 MiB (except the last), at most 10,000 of them. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
const ATTEMPTS = 3;

export interface UploadSettings {
  /** Files larger than this go up in parts, bytes. */
  multipartThresholdBytes: number;
  /** Bytes per part (grown when a file would need more than 10,000 parts). */
  partSizeBytes: number;
  /** Parts in flight at once. */
  concurrency: number;
  /** Deadline for one request carrying a body (a whole small file or one part), milliseconds. */
  uploadTimeoutMs: number;
  /** Deadline for the other requests (create, complete, abort), milliseconds. */
  requestTimeoutMs: number;
}

export interface UploadTarget {
  /** `uploadClient` (one attempt per send: bodies are file streams). */
  uploadClient: S3Client;
  /** The retrying client, for the requests without a body. */
  client: S3Client;
  bucket: string;
  objectKey: string;
  contentType: string;
}

/**
 * Upload `size` bytes of the file at `srcPath`, streamed from disk: every request body is a fresh
 * read stream of its byte range, so nothing is buffered and a retry re-reads the file. S3 makes the
 * object visible only when the PUT or the CompleteMultipartUpload succeeds, never partially.
 * Returns how many parts were sent (1 for a single PUT).
 */
export async function uploadFile(target: UploadTarget, srcPath: string, size: number, settings: UploadSettings): Promise<{ parts: number }> {
  const { uploadClient, client, bucket, objectKey, contentType } = target;
  if (size <= settings.multipartThresholdBytes) {
    await withRetries(() =>
      withFileStream(srcPath, 0, size - 1, (body) =>
        withDeadline(`PUT ${objectKey}`, settings.uploadTimeoutMs, (abortSignal) =>
          uploadClient.send(new PutObjectCommand({ Bucket: bucket, Key: objectKey, ContentType: contentType, ContentLength: size, Body: body }), { abortSignal }),
        ),
      ),
    );
    return { parts: 1 };
  }

  const partSize = Math.max(settings.partSizeBytes, Math.ceil(size / MAX_PARTS));
  const partCount = Math.ceil(size / partSize);
  const created = await withDeadline(`CreateMultipartUpload ${objectKey}`, settings.requestTimeoutMs, (abortSignal) =>
    client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: objectKey, ContentType: contentType }), { abortSignal }),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error(`S3 CreateMultipartUpload ${objectKey} returned no UploadId`);

  // The first failed part stops the others at once rather than after they have all been sent.
  const stop = new AbortController();
  let firstError: unknown;
  try {
    const etags: string[] = new Array<string>(partCount);
    let next = 0;
    const sendParts = async () => {
      while (next < partCount && !stop.signal.aborted) {
        const index = next++;
        const start = index * partSize;
        const end = Math.min(size, start + partSize) - 1;
        const out = await withRetries(() =>
          withFileStream(srcPath, start, end, (body) =>
            withDeadline(
              `UploadPart ${index + 1} ${objectKey}`,
              settings.uploadTimeoutMs,
              (abortSignal) =>
                uploadClient.send(
                  new UploadPartCommand({ Bucket: bucket, Key: objectKey, UploadId: uploadId, PartNumber: index + 1, ContentLength: end - start + 1, Body: body }),
                  { abortSignal },
                ),
              stop.signal,
            ),
          ),
        );
        if (!out.ETag) throw new Error(`S3 UploadPart ${index + 1} ${objectKey} returned no ETag`);
        etags[index] = out.ETag;
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(settings.concurrency, partCount) }, () =>
        sendParts().catch((error: unknown) => {
          if (!stop.signal.aborted) {
            firstError = error;
            stop.abort();
          }
        }),
      ),
    );
    if (stop.signal.aborted) throw firstError;
    await withDeadline(`CompleteMultipartUpload ${objectKey}`, settings.requestTimeoutMs, (abortSignal) =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: objectKey,
          UploadId: uploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
        { abortSignal },
      ),
    );
    return { parts: partCount };
  } catch (error) {
    // Uploaded parts are billed storage until aborted (a bucket lifecycle rule is the backstop).
    await withDeadline(`AbortMultipartUpload ${objectKey}`, settings.requestTimeoutMs, (abortSignal) =>
      client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: objectKey, UploadId: uploadId }), { abortSignal }),
    ).catch(() => undefined);
    throw error;
  }
}

/** Run `send` with a read stream of bytes `start`..`end` (inclusive), closed whatever happens. */
async function withFileStream<T>(srcPath: string, start: number, end: number, send: (body: ReadStream) => Promise<T>): Promise<T> {
  // An empty file: `end` is -1, and a stream with end < start would be refused.
  const body = end >= start ? createReadStream(srcPath, { start, end }) : createReadStream(srcPath);
  try {
    return await send(body);
  } finally {
    // A failed request unpipes its body but leaves the file open.
    body.destroy();
  }
}

async function withRetries<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= ATTEMPTS || !isRetryableS3Error(error)) throw error;
      // Full jitter, 0–200 ms then 0–400 ms.
      await sleep(Math.random() * 100 * 2 ** n);
    }
  }
}
