import { describe, expect, it } from "vitest";

import { ConfigError, parseEnv } from "./env.ts";
import { loadStorageConfig, storageEnvShape } from "./storage-env.ts";

const load = (env: Record<string, string>) => loadStorageConfig(parseEnv(storageEnvShape, env), "/data");

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const minio = { STORAGE: "s3", S3_BUCKET: "acebatch", S3_ACCESS_KEY_ID: "acebatch", S3_SECRET_ACCESS_KEY: "change-me-please" };

describe("storage env", () => {
  it("defaults to local storage in DATA_DIR", () => {
    expect(load({})).toEqual({ kind: "local", root: "/data" });
  });

  it("configures S3 with temp files under DATA_DIR/.tmp", () => {
    expect(load({ ...minio, S3_ENDPOINT: "http://minio:9000", S3_PREFIX: "outputs/" })).toEqual({
      kind: "s3",
      bucket: "acebatch",
      endpoint: "http://minio:9000",
      publicEndpoint: undefined,
      region: "us-east-1",
      accessKeyId: "acebatch",
      secretAccessKey: "change-me-please",
      forcePathStyle: true,
      prefix: "outputs/",
      tempDir: "/data/.tmp",
    });
  });

  it("uses path-style URLs by default only with a custom endpoint", () => {
    expect(load(minio)).toMatchObject({ forcePathStyle: false, endpoint: undefined });
    expect(load({ ...minio, S3_ENDPOINT: "http://minio:9000", S3_FORCE_PATH_STYLE: "false" })).toMatchObject({ forcePathStyle: false });
    expect(load({ ...minio, S3_FORCE_PATH_STYLE: "true", S3_REGION: "eu-west-1" })).toMatchObject({ forcePathStyle: true, region: "eu-west-1" });
  });

  it("names every variable STORAGE=s3 is missing", () => {
    expect(configError(() => load({ STORAGE: "s3" })).variables).toEqual(["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"]);
    const error = configError(() => load({ ...minio, S3_SECRET_ACCESS_KEY: "" }));
    expect(error.variables).toEqual(["S3_SECRET_ACCESS_KEY"]);
    expect(error.message).toContain("S3_SECRET_ACCESS_KEY: is required when STORAGE=s3");
  });

  it("rejects malformed values, naming the variable", () => {
    expect(configError(() => load({ STORAGE: "gcs" })).variables).toEqual(["STORAGE"]);
    expect(configError(() => load({ ...minio, S3_BUCKET: "Bad_Bucket" })).variables).toEqual(["S3_BUCKET"]);
    expect(configError(() => load({ ...minio, S3_ENDPOINT: "minio:9000" })).variables).toEqual(["S3_ENDPOINT"]);
    expect(configError(() => load({ ...minio, S3_PREFIX: "a/../b" })).variables).toEqual(["S3_PREFIX"]);
    expect(configError(() => load({ ...minio, S3_FORCE_PATH_STYLE: "maybe" })).variables).toEqual(["S3_FORCE_PATH_STYLE"]);
  });
});
