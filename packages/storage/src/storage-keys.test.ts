import { describe, expect, it } from "vitest";

import { assertValidKey, audioKey, metadataKey, StorageKeyError } from "./storage-keys.ts";

describe("key helpers", () => {
  it("name a job's audio and metadata", () => {
    expect(audioKey("job_01jd8x", "wav")).toBe("jobs/job_01jd8x/original.wav");
    expect(audioKey("job_01jd8x-3", "flac")).toBe("jobs/job_01jd8x-3/original.flac");
    expect(metadataKey("job_01jd8x")).toBe("jobs/job_01jd8x/metadata.json");
  });

  it("refuse job ids and extensions that would change the path", () => {
    expect(() => audioKey("../x", "wav")).toThrow(StorageKeyError);
    expect(() => audioKey("job/x", "wav")).toThrow(StorageKeyError);
    expect(() => audioKey("job_x", "w/av")).toThrow(StorageKeyError);
    expect(() => audioKey("job_x", "")).toThrow(StorageKeyError);
    expect(() => metadataKey("")).toThrow(StorageKeyError);
  });
});

describe("assertValidKey", () => {
  it("accepts ordinary relative POSIX keys", () => {
    expect(() => assertValidKey("jobs/job_x/original.wav")).not.toThrow();
    expect(() => assertValidKey("a")).not.toThrow();
    expect(() => assertValidKey("a/b..c/d")).not.toThrow();
  });

  it("names what is wrong", () => {
    expect(() => assertValidKey("a/../b")).toThrow(/\.\. segments/);
    expect(() => assertValidKey("/a")).toThrow(/relative/);
    expect(() => assertValidKey("a\\b")).toThrow(/backslashes/);
    expect(() => assertValidKey("a\0b")).toThrow(/NUL/);
    expect(() => assertValidKey("x".repeat(2000))).toThrow(/at most/);
    expect(() => assertValidKey(42)).toThrow(/string/);
  });
});
