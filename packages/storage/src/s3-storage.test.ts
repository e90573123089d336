import { randomUUID } from "node:crypto";
import { mkdtemp, rm, stat, truncate, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { text } from "node:stream/consumers";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { createS3Storage, type S3Storage, type S3StorageOptions } from "./s3-storage.ts";
import { startTestS3Server, type TestS3Server } from "./test-s3-server.ts";

// What only the S3 driver does; the behaviour all drivers share is in storage-contract.test.ts.

let s3: TestS3Server;
beforeAll(async () => {
  s3 = await startTestS3Server();
});
afterAll(async () => {
  await s3?.close();
});

let dir: string;
let prefix: string;
const opened: S3Storage[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "acebatch-s3-"));
  prefix = `t-${randomUUID()}`;
  s3.requests.length = 0;
  s3.fail = undefined;
});
afterEach(async () => {
  for (const storage of opened.splice(0)) storage.destroy();
  await rm(dir, { recursive: true, force: true });
});

function makeStorage(overrides: Partial<S3StorageOptions> = {}): S3Storage {
  const storage = createS3Storage({ ...s3.connection, prefix, tempDir: path.join(dir, "tmp"), ...overrides });
  opened.push(storage);
  return storage;
}

async function tempFile(storage: S3Storage, bytes: number): Promise<string> {
  const file = await storage.tempFilePath();
  await writeFile(file, "");
  await truncate(file, bytes);
  return file;
}

const MiB = 1024 * 1024;
const requestsFor = (key: string) => s3.requests.filter((r) => r.includes(`/${s3.bucket}/${prefix}/${key}`));

describe("putFile", () => {
  it("sends a small file as one PUT under the prefix", async () => {
    const storage = makeStorage();
    await storage.putFile("jobs/job_a/original.wav", await tempFile(storage, 1000), { contentType: "audio/wav" });
    expect(requestsFor("jobs/job_a/original.wav")).toEqual([`PUT /${s3.bucket}/${prefix}/jobs/job_a/original.wav?x-id=PutObject`]);
  });

  it("sends a large file in parts, each streamed from disk, and removes the source", async () => {
    const storage = makeStorage();
    const src = await tempFile(storage, 20 * MiB);
    expect(await storage.putFile("jobs/job_b/original.wav", src, { contentType: "audio/wav" })).toEqual({ bytes: 20 * MiB });
    const methods = requestsFor("jobs/job_b/original.wav").map((r) => r.replace(/^(\w+) .*?\?(uploads|partNumber=\d+|uploadId).*$/, "$1 $2"));
    // 20 MiB in 8 MiB parts; parts go up concurrently, so compare them as a set.
    expect(methods[0]).toBe("POST uploads");
    expect(methods.slice(1, 4).sort()).toEqual(["PUT partNumber=1", "PUT partNumber=2", "PUT partNumber=3"]);
    expect(methods.slice(4)).toEqual(["POST uploadId"]);
    await expect(stat(src)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await storage.stat("jobs/job_b/original.wav")).toEqual({ bytes: 20 * MiB, contentType: "audio/wav" });
  });

  it("retries a part that failed with a 5xx, re-reading it from the file", async () => {
    const storage = makeStorage();
    const src = await tempFile(storage, 17 * MiB);
    let failures = 0;
    s3.fail = (request) => (request.includes("partNumber=2&") && failures++ === 0 ? 503 : undefined);
    await storage.putFile("a.wav", src, { contentType: "audio/wav" });
    expect(requestsFor("a.wav").filter((r) => r.includes("partNumber=2&"))).toHaveLength(2);
    expect(await storage.stat("a.wav")).toEqual({ bytes: 17 * MiB, contentType: "audio/wav" });
  });

  it("aborts the multipart upload when a part is refused, storing nothing and keeping the source", async () => {
    const storage = makeStorage();
    const src = await tempFile(storage, 17 * MiB);
    s3.fail = (request) => (request.includes("partNumber=3&") ? 400 : undefined);
    await expect(storage.putFile("a.wav", src, { contentType: "audio/wav" })).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    expect(requestsFor("a.wav").filter((r) => r.includes("partNumber=3&"))).toHaveLength(1);
    expect(requestsFor("a.wav").filter((r) => r.startsWith("DELETE ") && r.includes("uploadId="))).toHaveLength(1);
    expect(await storage.exists("a.wav")).toBe(false);
    expect((await stat(src)).size).toBe(17 * MiB);
  });
});

describe("presignedGetUrl", () => {
  it("gives a URL that plain fetch reads the bytes from", async () => {
    const storage = makeStorage();
    await storage.putFile("jobs/job_a/original.wav", await tempFile(storage, 4096), { contentType: "audio/wav" });
    const url = await storage.presignedGetUrl("jobs/job_a/original.wav", 60);
    expect(url.startsWith(`${s3.endpoint}/${s3.bucket}/${prefix}/jobs/job_a/original.wav?`)).toBe(true);
    expect(new URL(url).searchParams.get("X-Amz-Expires")).toBe("60");
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("audio/wav");
    expect((await response.arrayBuffer()).byteLength).toBe(4096);
  });

  it("stops working once the TTL has passed", async () => {
    const storage = makeStorage();
    await storage.putJson("m.json", { ok: true });
    // SigV4 dates have whole seconds: sign early in a second so the 1 s window is nearly whole.
    while (Date.now() % 1000 > 200) await sleep(20);
    const url = await storage.presignedGetUrl("m.json", 1);
    expect((await fetch(url, { signal: AbortSignal.timeout(5_000) })).status).toBe(200);
    await sleep(2_100);
    const late = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    expect(late.status).toBe(403);
    expect(await late.text()).toContain("Request has expired");
  });

  it("points at the public endpoint when one is set", async () => {
    const storage = makeStorage({ publicEndpoint: "https://files.example.test" });
    const url = new URL(await storage.presignedGetUrl("a.wav", 60));
    expect(url.origin).toBe("https://files.example.test");
    expect(url.pathname).toBe(`/${s3.bucket}/${prefix}/a.wav`);
  });

  it("refuses a TTL S3 would not accept", async () => {
    const storage = makeStorage();
    await expect(storage.presignedGetUrl("a.wav", 0)).rejects.toThrow(RangeError);
    await expect(storage.presignedGetUrl("a.wav", 7 * 24 * 3600 + 1)).rejects.toThrow(RangeError);
    await expect(storage.presignedGetUrl("a.wav", 1.5)).rejects.toThrow(RangeError);
  });
});

describe("prefix", () => {
  it("keeps storages with different prefixes apart", async () => {
    const a = makeStorage();
    const b = makeStorage({ prefix: `other-${randomUUID()}/` });
    await a.putJson("x.json", { from: "a" });
    expect(await b.getJson("x.json")).toBeNull();
    expect(await makeStorage({ prefix: `/${prefix}/` }).getJson("x.json")).toEqual({ from: "a" });
  });

  it("rejects a prefix that is not a valid key", () => {
    expect(() => makeStorage({ prefix: "a/../b" })).toThrow(/not a valid key prefix/);
  });
});

describe("read streams", () => {
  it("release their connection when destroyed half-way", async () => {
    // One socket: a leaked GET would leave the stat below waiting until its deadline.
    const storage = makeStorage({ maxSockets: 1, timeouts: { requestMs: 3_000 } });
    await storage.putFile("big.bin", await tempFile(storage, 12 * MiB), { contentType: "application/octet-stream" });
    const stream = storage.createReadStream("big.bin");
    await new Promise((resolve) => stream.once("data", resolve));
    stream.destroy();
    expect(await storage.stat("big.bin")).toMatchObject({ bytes: 12 * MiB });
  });

  it("surface other S3 errors as they are (a missing bucket is not a missing object)", async () => {
    const storage = makeStorage({ bucket: "no-such-bucket" });
    await expect(text(storage.createReadStream("a.wav"))).rejects.toMatchObject({ name: "NoSuchBucket" });
    await expect(storage.getJson("a.json")).rejects.toMatchObject({ name: "NoSuchBucket" });
  });
});

describe("timeouts", () => {
  // A server that accepts connections and never answers.
  let silent: Server;
  const sockets = new Set<Socket>();
  let silentEndpoint: string;
  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    silentEndpoint = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("bound every call when the store does not answer", async () => {
    const storage = makeStorage({ endpoint: silentEndpoint, timeouts: { requestMs: 300, uploadMs: 300 } });
    const started = Date.now();
    await expect(storage.stat("a.wav")).rejects.toThrow(/HEAD .*a\.wav: no answer within 300 ms/);
    await expect(storage.putJson("a.json", {})).rejects.toThrow(/no answer within 300 ms/);
    await expect(storage.getJson("a.json")).rejects.toThrow(/no answer within 300 ms/);
    await expect(storage.delete("a.json")).rejects.toThrow(/no answer within 300 ms/);
    await expect(storage.putFile("a.wav", await tempFile(storage, 10), { contentType: "audio/wav" })).rejects.toThrow(/no answer within 300 ms/);
    await expect(text(storage.createReadStream("a.wav"))).rejects.toThrow(/no answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(6 * 300 + 1_500);
  });
});
