import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";

import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";

/** How to reach the bucket; everything is explicit so the SDK never looks for credentials itself. */
export interface S3ConnectionOptions {
  /** e.g. `http://minio:9000`; unset means AWS S3 for `region`. */
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `endpoint/bucket/key` instead of `bucket.endpoint/key`; MinIO and most S3 clones need it. */
  forcePathStyle?: boolean;
}

export interface S3ClientTimeouts {
  /** TCP connect, milliseconds. */
  connectMs: number;
  /** Socket inactivity, milliseconds; also applies while a response body is streamed. */
  idleMs: number;
}

export interface S3Clients {
  /** Every call except body uploads; the SDK retries these (3 attempts). */
  client: S3Client;
  /**
   * Uploads whose body is a file stream. The SDK cannot replay a consumed stream, so this client
   * makes one attempt and the caller retries with a fresh stream.
   */
  uploadClient: S3Client;
  /** Signs download URLs for `publicEndpoint` (never sends anything). */
  presignClient: S3Client;
  destroy(): void;
}

/** The S3 clients of one storage, sharing one connection pool. */
export function createS3Clients(
  connection: S3ConnectionOptions,
  options: { timeouts: S3ClientTimeouts; maxSockets: number; publicEndpoint?: string },
): S3Clients {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
  const requestHandler = new NodeHttpHandler({
    connectionTimeout: options.timeouts.connectMs,
    socketTimeout: options.timeouts.idleMs,
    httpAgent: new HttpAgent(agentOptions),
    httpsAgent: new HttpsAgent(agentOptions),
  });
  const base = {
    region: connection.region,
    endpoint: connection.endpoint,
    forcePathStyle: connection.forcePathStyle ?? false,
    // Static credentials: no environment, profile, container or instance-metadata (IMDS) lookups.
    credentials: { accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey },
    // "auto" would probe the instance-metadata service to pick timeouts.
    defaultsMode: "standard" as const,
    // Newer SDKs add CRC trailers (aws-chunked uploads) by default, which MinIO versions and other
    // S3 clones reject; checksums only where S3 requires them.
    requestChecksumCalculation: "WHEN_REQUIRED" as const,
    responseChecksumValidation: "WHEN_REQUIRED" as const,
    requestHandler,
  };
  const client = new S3Client({ ...base, maxAttempts: 3 });
  // Without a logger the SDK console.warns about every failed streaming request, which it does
  // not retry; we retry those ourselves and the caller gets the error, so the line is only noise.
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const uploadClient = new S3Client({ ...base, maxAttempts: 1, logger: quiet });
  const presignClient = new S3Client({ ...base, endpoint: options.publicEndpoint ?? connection.endpoint });
  return {
    client,
    uploadClient,
    presignClient,
    destroy() {
      client.destroy();
      uploadClient.destroy();
      presignClient.destroy();
      requestHandler.destroy();
    },
  };
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function httpStatus(error: unknown): number | undefined {
  return (error as SdkErrorShape | null)?.$metadata?.httpStatusCode;
}

/** S3's "no such object" (GET: `NoSuchKey`; HEAD has no body, so only a 404 `NotFound`). */
export function isMissingObject(error: unknown): boolean {
  const name = (error as SdkErrorShape | null)?.name;
  return name === "NoSuchKey" || name === "NotFound";
}

/** A requested range that starts past the end of the object (HTTP 416). */
export function isUnsatisfiableRange(error: unknown): boolean {
  return (error as SdkErrorShape | null)?.name === "InvalidRange" || httpStatus(error) === 416;
}

/** The code of the error `withDeadline` throws. */
export const DEADLINE_EXCEEDED = "S3_DEADLINE_EXCEEDED";

/**
 * Run one SDK call with an AbortSignal that fires after `timeoutMs` milliseconds (or when `cancel`
 * does); a call cut off by the deadline fails with a TimeoutError that says what timed out.
 */
export async function withDeadline<T>(what: string, timeoutMs: number, call: (abortSignal: AbortSignal) => Promise<T>, cancel?: AbortSignal): Promise<T> {
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    return await call(cancel ? AbortSignal.any([cancel, deadline]) : deadline);
  } catch (error) {
    if (!deadline.aborted || cancel?.aborted) throw error;
    throw Object.assign(new Error(`S3 ${what}: no answer within ${timeoutMs} ms`, { cause: error }), { name: "TimeoutError", code: DEADLINE_EXCEEDED });
  }
}

const NETWORK_ERROR_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "ECONNABORTED"]);

/**
 * Worth another attempt: a 5xx, a 429, a stalled socket or a dropped connection; not our own
 * per-request deadline, which is already the most one request may take.
 */
export function isRetryableS3Error(error: unknown): boolean {
  const status = httpStatus(error);
  if (status !== undefined && status > 0) return status >= 500 || status === 429;
  const { name, code } = (error ?? {}) as SdkErrorShape;
  if (code === DEADLINE_EXCEEDED) return false;
  return name === "TimeoutError" || (code !== undefined && NETWORK_ERROR_CODES.has(code));
}

/** The error a missing object surfaces as, matching what the local driver's fs streams emit. */
export function objectNotFound(key: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`no stored object at ${JSON.stringify(key)}`), { code: "ENOENT" });
}
