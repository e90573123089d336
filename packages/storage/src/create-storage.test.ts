import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { createStorage } from "./create-storage.ts";
import type { S3Storage } from "./s3-storage.ts";
import { startTestS3Server, type TestS3Server } from "./test-s3-server.ts";

let dir: string;
let s3: TestS3Server;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "acebatch-create-storage-"));
  s3 = await startTestS3Server();
});
afterEach(async () => {
  await s3.close();
  await rm(dir, { recursive: true, force: true });
});

describe("createStorage", () => {
  it("makes local storage under root, without presigned URLs", async () => {
    const storage = createStorage({ kind: "local", root: path.join(dir, "data") });
    await storage.putJson("a.json", { ok: 1 });
    expect(await storage.getJson("a.json")).toEqual({ ok: 1 });
    expect(storage.presignedGetUrl).toBeUndefined();
    expect(path.dirname(await storage.tempFilePath())).toBe(path.join(dir, "data", ".tmp"));
  });

  it("makes S3 storage from the settings loadStorageConfig produces", async () => {
    const storage = createStorage({ kind: "s3", ...s3.connection, prefix: "acebatch", tempDir: path.join(dir, "data", ".tmp") });
    try {
      await storage.putJson("a.json", { ok: 1 });
      expect(s3.requests).toContain(`PUT /${s3.bucket}/acebatch/a.json?x-id=PutObject`);
      expect(await storage.presignedGetUrl?.("a.json", 60)).toMatch(/X-Amz-Signature=/);
      expect(path.dirname(await storage.tempFilePath())).toBe(path.join(dir, "data", ".tmp"));
    } finally {
      (storage as S3Storage).destroy();
    }
  });
});
