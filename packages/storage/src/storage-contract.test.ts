import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { buffer, text } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { createLocalStorage } from "./local-storage.ts";
import type { ObjectStorage } from "./object-storage.ts";
import { createS3Storage } from "./s3-storage.ts";
import { StorageKeyError } from "./storage-keys.ts";
import { startTestS3Server, type TestS3Server } from "./test-s3-server.ts";

// The behaviour every driver promises (see object-storage.ts); driver-specific details are tested
// in local-storage.test.ts and s3-storage.test.ts.

let s3: TestS3Server;
beforeAll(async () => {
  s3 = await startTestS3Server();
});
afterAll(async () => {
  await s3?.close();
});

interface Driver {
  name: string;
  /** A storage of its own for one test, in `dir`; S3 tests share one bucket under unique prefixes. */
  make(dir: string): { storage: ObjectStorage; close(): void };
}

const drivers: Driver[] = [
  {
    name: "local",
    make: (dir) => ({ storage: createLocalStorage({ root: path.join(dir, "root") }), close: () => undefined }),
  },
  {
    name: "s3",
    make: (dir) => {
      const storage = createS3Storage({ ...s3.connection, prefix: `t-${randomUUID()}`, tempDir: path.join(dir, "tmp") });
      return { storage, close: () => storage.destroy() };
    },
  },
];

/** A file of `bytes` pseudo-random bytes written in 1 MiB chunks; returns its sha256. */
async function writeLargeFile(file: string, bytes: number): Promise<string> {
  const hash = createHash("sha256");
  const chunk = Buffer.alloc(1024 * 1024);
  async function* chunks() {
    for (let written = 0, i = 0; written < bytes; i++) {
      chunk.fill(i % 251);
      chunk.writeUInt32BE(i, 0);
      const piece = chunk.subarray(0, Math.min(chunk.length, bytes - written));
      hash.update(piece);
      written += piece.length;
      yield piece;
    }
  }
  await pipeline(chunks(), createWriteStream(file));
  return hash.digest("hex");
}

describe.each(drivers)("$name driver", (driver) => {
  let dir: string;
  let storage: ObjectStorage;
  let close: () => void;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), `acebatch-storage-${driver.name}-`));
    ({ storage, close } = driver.make(dir));
  });
  afterEach(async () => {
    close();
    await rm(dir, { recursive: true, force: true });
  });

  async function tempWith(content: string): Promise<string> {
    const file = await storage.tempFilePath();
    await writeFile(file, content);
    return file;
  }

  describe("tempFilePath", () => {
    it("gives distinct local paths that do not exist yet", async () => {
      const a = await storage.tempFilePath();
      const b = await storage.tempFilePath();
      expect(a).not.toBe(b);
      expect(path.isAbsolute(a)).toBe(true);
      await expect(stat(a)).rejects.toMatchObject({ code: "ENOENT" });
    });
  });

  describe("putFile", () => {
    it("stores the file with its content type and removes the source", async () => {
      const src = await tempWith("RIFF-bytes");
      expect(await storage.putFile("jobs/job_a/original.wav", src, { contentType: "audio/x-custom" })).toEqual({ bytes: 10 });
      await expect(stat(src)).rejects.toMatchObject({ code: "ENOENT" });
      expect(await storage.stat("jobs/job_a/original.wav")).toEqual({ bytes: 10, contentType: "audio/x-custom" });
      expect(await storage.exists("jobs/job_a/original.wav")).toBe(true);
      expect(await text(storage.createReadStream("jobs/job_a/original.wav"))).toBe("RIFF-bytes");
    });

    it("replaces an existing object, bytes and content type, when the same key is put again", async () => {
      await storage.putFile("jobs/job_a/original.wav", await tempWith("first version"), { contentType: "audio/wav" });
      await storage.putFile("jobs/job_a/original.wav", await tempWith("second"), { contentType: "audio/mpeg" });
      expect(await storage.stat("jobs/job_a/original.wav")).toEqual({ bytes: 6, contentType: "audio/mpeg" });
      expect(await text(storage.createReadStream("jobs/job_a/original.wav"))).toBe("second");
    });

    it("stores a large file intact, and the object is invisible until it is complete", { timeout: 60_000 }, async () => {
      const size = 20 * 1024 * 1024 + 123;
      const src = await storage.tempFilePath();
      const sha256 = await writeLargeFile(src, size);
      const key = "jobs/job_big/original.wav";
      let settled = false;
      const put = storage.putFile(key, src, { contentType: "audio/wav" }).finally(() => {
        settled = true;
      });
      const seen: (number | null)[] = [];
      while (!settled) seen.push((await storage.stat(key))?.bytes ?? null);
      expect(await put).toEqual({ bytes: size });
      // Polled while the upload ran: absent, or (after the final commit) complete; never a part.
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.filter((bytes) => bytes !== null && bytes !== size)).toEqual([]);
      const stored = await buffer(storage.createReadStream(key));
      expect(stored.length).toBe(size);
      expect(createHash("sha256").update(stored).digest("hex")).toBe(sha256);
    });

    it("stores an empty file", async () => {
      await storage.putFile("empty.bin", await tempWith(""), { contentType: "application/octet-stream" });
      expect(await storage.stat("empty.bin")).toEqual({ bytes: 0, contentType: "application/octet-stream" });
      expect(await text(storage.createReadStream("empty.bin"))).toBe("");
    });

    it("rejects a content type that could break an HTTP header, storing nothing", async () => {
      const src = await tempWith("x");
      await expect(storage.putFile("a.wav", src, { contentType: "audio/wav\r\nX-Evil: 1" })).rejects.toThrow(/invalid content type/);
      await expect(storage.putFile("a.wav", src, { contentType: "" })).rejects.toThrow(/invalid content type/);
      expect(await storage.exists("a.wav")).toBe(false);
      expect((await stat(src)).size).toBe(1);
    });

    it("fails with ENOENT when the source file is missing", async () => {
      await expect(storage.putFile("a.wav", path.join(dir, "missing"), { contentType: "audio/wav" })).rejects.toMatchObject({ code: "ENOENT" });
      expect(await storage.exists("a.wav")).toBe(false);
    });
  });

  describe("putJson / getJson", () => {
    it("round-trips a value, replaces it, and reports application/json", async () => {
      await storage.putJson("jobs/job_a/metadata.json", { job_id: "job_a", bytes: 12 });
      await storage.putJson("jobs/job_a/metadata.json", { job_id: "job_a", bytes: 13 });
      expect(await storage.getJson("jobs/job_a/metadata.json")).toEqual({ job_id: "job_a", bytes: 13 });
      expect(await storage.stat("jobs/job_a/metadata.json")).toMatchObject({ contentType: "application/json" });
    });

    it("returns null for a missing key", async () => {
      expect(await storage.getJson("jobs/nope/metadata.json")).toBeNull();
    });

    it("refuses a value that is not JSON", async () => {
      await expect(storage.putJson("x.json", undefined)).rejects.toThrow(/not JSON-serialisable/);
      expect(await storage.exists("x.json")).toBe(false);
    });
  });

  describe("createReadStream", () => {
    it("returns exactly the inclusive byte range, clamped at the end", async () => {
      await storage.putFile("r.bin", await tempWith("0123456789"), { contentType: "application/octet-stream" });
      expect(await text(storage.createReadStream("r.bin", { start: 2, end: 5 }))).toBe("2345");
      expect(await text(storage.createReadStream("r.bin", { start: 0, end: 0 }))).toBe("0");
      expect(await text(storage.createReadStream("r.bin", { start: 9, end: 9 }))).toBe("9");
      expect(await text(storage.createReadStream("r.bin", { start: 7, end: 100 }))).toBe("789");
    });

    it("rejects an inverted, negative or fractional range at once", () => {
      expect(() => storage.createReadStream("r.bin", { start: 5, end: 2 })).toThrow(RangeError);
      expect(() => storage.createReadStream("r.bin", { start: -1, end: 2 })).toThrow(RangeError);
      expect(() => storage.createReadStream("r.bin", { start: 0.5, end: 2 })).toThrow(RangeError);
    });

    it("reports a missing object as ENOENT on the stream", async () => {
      await expect(text(storage.createReadStream("missing.bin"))).rejects.toMatchObject({ code: "ENOENT" });
      await expect(text(storage.createReadStream("missing.bin", { start: 0, end: 3 }))).rejects.toMatchObject({ code: "ENOENT" });
    });
  });

  describe("delete / exists / stat", () => {
    it("deletes the object, and deleting again or a key never written is fine", async () => {
      await storage.putFile("jobs/job_a/original.wav", await tempWith("abc"), { contentType: "audio/x-odd" });
      await storage.delete("jobs/job_a/original.wav");
      await storage.delete("jobs/job_a/original.wav");
      await storage.delete("never/existed.wav");
      expect(await storage.exists("jobs/job_a/original.wav")).toBe(false);
      expect(await storage.stat("jobs/job_a/original.wav")).toBeNull();
      expect(await storage.getJson("jobs/job_a/original.wav")).toBeNull();
    });

    it("does not treat a key prefix (a directory) as an object", async () => {
      await storage.putJson("jobs/job_a/metadata.json", {});
      expect(await storage.exists("jobs/job_a")).toBe(false);
      expect(await storage.stat("jobs/job_a")).toBeNull();
      expect(await storage.exists("jobs/job_a/metadata.json/deeper")).toBe(false);
      expect(await storage.getJson("jobs/job_a/metadata.json/deeper")).toBeNull();
    });

    it("reports null for a missing object", async () => {
      expect(await storage.stat("jobs/none/original.wav")).toBeNull();
      expect(await storage.exists("jobs/none/original.wav")).toBe(false);
    });
  });

  describe("keys that would escape the root", () => {
    const bad = ["../outside.wav", "jobs/../../etc/passwd", "/etc/passwd", "jobs\\x.wav", "jobs/a\0.wav", "", "jobs//a.wav", "jobs/a/", "./a", ".tmp/x", ".meta/a.wav.json"];
    it.each(bad)("rejects %j on every operation", async (key) => {
      const src = await tempWith("x");
      await expect(storage.putFile(key, src, { contentType: "audio/wav" })).rejects.toBeInstanceOf(StorageKeyError);
      await expect(storage.putJson(key, {})).rejects.toBeInstanceOf(StorageKeyError);
      await expect(storage.getJson(key)).rejects.toBeInstanceOf(StorageKeyError);
      await expect(storage.stat(key)).rejects.toBeInstanceOf(StorageKeyError);
      await expect(storage.delete(key)).rejects.toBeInstanceOf(StorageKeyError);
      await expect(storage.exists(key)).rejects.toBeInstanceOf(StorageKeyError);
      expect(() => storage.createReadStream(key)).toThrow(StorageKeyError);
      if (storage.presignedGetUrl) await expect(storage.presignedGetUrl(key, 60)).rejects.toBeInstanceOf(StorageKeyError);
      // The source was not consumed.
      expect((await stat(src)).size).toBe(1);
    });
  });
});
