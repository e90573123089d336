import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import S3rver from "s3rver";

/** A real S3-compatible server (s3rver) for tests: loopback only, a random port, a temp directory. */
export interface TestS3Server {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  bucket: string;
  /** What `createS3Storage` needs to reach it (path style, fixed fake region and credentials). */
  connection: { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: true };
  /** `METHOD /path?query` of every request received, in order. */
  requests: string[];
  /**
   * Fault injection: when this returns a status for a request (`METHOD /path?query`), the server
   * reads the request body and answers that status with an S3 error instead of handling it.
   */
  fail: ((request: string) => number | undefined) | undefined;
  close(): Promise<void>;
}

/** s3rver's built-in account; it checks that the key exists but does not verify SigV4 signatures. */
const ACCESS_KEY = "S3RVER";

export async function startTestS3Server(bucket = "acebatch-test"): Promise<TestS3Server> {
  const directory = await mkdtemp(path.join(tmpdir(), "acebatch-s3rver-"));
  const s3rver = new S3rver({ silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  commitObjectsByRename(s3rver);
  await s3rver.configureBuckets();
  const handle = s3rver.callback();
  const requests: string[] = [];
  // Our own server around s3rver's handler, so tests can see (and fail) the requests an operation made.
  const server = createServer((req, res) => {
    const line = `${req.method} ${req.url}`;
    requests.push(line);
    const status = result.fail?.(line);
    if (status === undefined) {
      handle(req, res);
      return;
    }
    req.resume();
    req.once("end", () => {
      res.writeHead(status, { "content-type": "application/xml" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${status >= 500 ? "InternalError" : "InvalidRequest"}</Code><Message>injected by the test</Message></Error>`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const result: TestS3Server = {
    endpoint,
    bucket,
    connection: { endpoint, bucket, region: "us-east-1", accessKeyId: ACCESS_KEY, secretAccessKey: ACCESS_KEY, forcePathStyle: true },
    requests,
    fail: undefined,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(directory, { recursive: true, force: true });
    },
  };
  return result;
}

/** The parts of s3rver's filesystem store that `commitObjectsByRename` replaces or uses. */
interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5: string): Promise<void>;
  putObject(object: { bucket: string; key: string; content: Readable | Buffer; metadata: Record<string, unknown> }): Promise<{ size: number; md5: string }>;
}

/**
 * s3rver writes an object's file in place (a reader can see it half-written); S3 and MinIO make a
 * PUT or a completed multipart upload visible at once. Write to a scratch file and rename it into
 * place, as the real stores behave, so the tests check our driver rather than s3rver. A new key's
 * metadata is written first: s3rver reports an object only once its bytes file exists.
 */
function commitObjectsByRename(s3rver: S3rver): void {
  const store = (s3rver as unknown as { store: S3rverStore }).store;
  if (typeof store?.getResourcePath !== "function" || typeof store.putMetadata !== "function") {
    throw new Error("s3rver's store changed: update commitObjectsByRename in test-s3-server.ts");
  }
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, "object");
    await mkdir(path.dirname(objectPath), { recursive: true });
    const scratch = `${objectPath}.${randomUUID()}.partial`;
    const md5 = createHash("md5");
    let size = 0;
    const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    await pipeline(
      content,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          md5.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(scratch),
    );
    const digest = md5.digest("hex");
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    await rename(scratch, objectPath);
    return { size, md5: digest };
  };
}
