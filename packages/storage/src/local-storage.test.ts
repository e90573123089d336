import { mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { text } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { createLocalStorage, type LocalStorage } from "./local-storage.ts";

// What only the local driver does; the behaviour all drivers share is in storage-contract.test.ts.

let dir: string;
let storage: LocalStorage;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "acebatch-storage-"));
  storage = createLocalStorage({ root: path.join(dir, "root") });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tempWith(content: string): Promise<string> {
  const file = await storage.tempFilePath();
  await writeFile(file, content);
  return file;
}

describe("tempFilePath", () => {
  it("is under root/.tmp, on the objects' filesystem", async () => {
    expect(path.dirname(await storage.tempFilePath())).toBe(path.join(storage.root, ".tmp"));
  });
});

describe("putFile", () => {
  it("never exposes a partial object while replacing: readers see the old bytes or the new ones", async () => {
    const key = "jobs/job_a/original.wav";
    const oldBody = "o".repeat(200_000);
    const newBody = "n".repeat(300_000);
    await storage.putFile(key, await tempWith(oldBody), { contentType: "audio/wav" });
    const seen = new Set<string>();
    let done = false;
    const readers = (async () => {
      while (!done) {
        const body = await text(storage.createReadStream(key));
        seen.add(body === oldBody ? "old" : body === newBody ? "new" : `partial:${body.length}`);
      }
    })();
    for (let i = 0; i < 5; i++) {
      await storage.putFile(key, await tempWith(i % 2 === 0 ? newBody : oldBody), { contentType: "audio/wav" });
    }
    done = true;
    await readers;
    expect([...seen].filter((s) => s.startsWith("partial"))).toEqual([]);
  });

  it("accepts a source on the same filesystem outside .tmp", async () => {
    const src = path.join(dir, "elsewhere.bin");
    await writeFile(src, "xyz");
    expect(await storage.putFile("a/b.bin", src, { contentType: "application/octet-stream" })).toEqual({ bytes: 3 });
  });
});

describe("putJson", () => {
  it("leaves no scratch files behind", async () => {
    await storage.putJson("jobs/job_a/metadata.json", { job_id: "job_a" });
    await storage.putJson("jobs/job_a/metadata.json", { job_id: "job_a", bytes: 1 });
    expect(await readdir(path.join(storage.root, ".tmp"))).toEqual([]);
  });
});

describe("content type sidecars", () => {
  it("are removed with the object: a new file under the key gets the type its extension implies", async () => {
    await storage.putFile("jobs/job_a/original.wav", await tempWith("abc"), { contentType: "audio/x-odd" });
    await storage.delete("jobs/job_a/original.wav");
    await writeFile(path.join(storage.root, "jobs/job_a/original.wav"), "abc");
    expect(await storage.stat("jobs/job_a/original.wav")).toEqual({ bytes: 3, contentType: "audio/wav" });
  });

  it("are written only for a type the extension does not imply, and one put of the implied type removes an old one", async () => {
    const sidecar = path.join(storage.root, ".meta/jobs/job_b/original.wav.json");
    await storage.putFile("jobs/job_b/original.wav", await tempWith("abc"), { contentType: "audio/wav" });
    await expect(stat(sidecar)).rejects.toMatchObject({ code: "ENOENT" });
    await storage.putFile("jobs/job_b/original.wav", await tempWith("abc"), { contentType: "audio/x-odd" });
    expect(await storage.stat("jobs/job_b/original.wav")).toEqual({ bytes: 3, contentType: "audio/x-odd" });
    await storage.putFile("jobs/job_b/original.wav", await tempWith("abcd"), { contentType: "audio/wav" });
    await expect(stat(sidecar)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await storage.stat("jobs/job_b/original.wav")).toEqual({ bytes: 4, contentType: "audio/wav" });
  });

});

describe("presigned URLs", () => {
  it("are not offered: callers sign a URL of our own API instead", () => {
    expect(storage.presignedGetUrl).toBeUndefined();
  });
});

describe("sweepTempFiles", () => {
  it("removes only temp files older than the cutoff", async () => {
    const old = await tempWith("old");
    const fresh = await tempWith("fresh");
    const past = new Date(Date.now() - 2 * 3600_000);
    await utimes(old, past, past);
    expect(await storage.sweepTempFiles(3600_000)).toBe(1);
    await expect(stat(old)).rejects.toMatchObject({ code: "ENOENT" });
    expect((await stat(fresh)).size).toBe(5);
  });

  it("is fine before anything was written", async () => {
    expect(await storage.sweepTempFiles(0)).toBe(0);
  });
});
