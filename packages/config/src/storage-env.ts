import path from "node:path";

import { z } from "zod";

import { ConfigError } from "./env.ts";

const S3_BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** `minio:9000` parses as a URL with the scheme `minio:`; insist on http(s). */
const httpUrl = () =>
  z
    .string()
    .refine((v) => URL.canParse(v) && ["http:", "https:"].includes(new URL(v).protocol), "must be an http:// or https:// URL such as http://minio:9000")
    .optional();
const KEY_PREFIX = /^(?!.*(?:^|\/)\.)(?!.*\/\/)[A-Za-z0-9_./-]{1,200}$/;

/**
 * Where output audio is stored. Spread into a service's env shape beside `sharedEnvShape`, then
 * turn the parsed values into a storage config with `loadStorageConfig`, which checks the variables
 * that depend on each other.
 */
export const storageEnvShape = {
  STORAGE: z.enum(["local", "s3"], { error: "must be local or s3" }).default("local"),
  S3_BUCKET: z.string().regex(S3_BUCKET_NAME, "must be an S3 bucket name: 3-63 lower-case letters, digits, . or -").optional(),
  /** For MinIO and other S3-compatible stores; unset means AWS S3 in S3_REGION. */
  S3_ENDPOINT: httpUrl(),
  /** Where presigned download URLs point when S3_ENDPOINT is an internal name (e.g. http://minio:9000). */
  S3_PUBLIC_ENDPOINT: httpUrl(),
  S3_REGION: z.string().regex(/^[a-z0-9-]{1,40}$/, "must be a region name such as us-east-1").default("us-east-1"),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** Default: true when S3_ENDPOINT is set (MinIO needs it), false for AWS. */
  S3_FORCE_PATH_STYLE: z
    .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
    .optional()
    .transform((v) => (v === undefined ? undefined : v === "true" || v === "1" || v === "yes")),
  S3_PREFIX: z.string().regex(KEY_PREFIX, "must be a key prefix such as acebatch/ (letters, digits, _ . - /; no segment starting with .)").optional(),
};

export type StorageEnv = z.output<z.ZodObject<typeof storageEnvShape>>;

/** What `createStorage` from `@acebatch/storage` takes. */
export type StorageSettings =
  | { kind: "local"; root: string }
  | {
      kind: "s3";
      bucket: string;
      endpoint?: string;
      publicEndpoint?: string;
      region: string;
      accessKeyId: string;
      secretAccessKey: string;
      forcePathStyle: boolean;
      prefix?: string;
      tempDir: string;
    };

/**
 * The storage settings from parsed env. `dataDir` is the local storage root, and with S3 the parent
 * of the directory that holds downloads before they are uploaded (`{dataDir}/.tmp`). Throws a
 * ConfigError naming each variable STORAGE=s3 is missing.
 */
export function loadStorageConfig(e: StorageEnv, dataDir: string): StorageSettings {
  if (e.STORAGE === "local") return { kind: "local", root: dataDir };
  const missing = (["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const).filter((name) => e[name] === undefined);
  if (missing.length > 0) {
    throw new ConfigError(missing.map((variable) => ({ variable, message: "is required when STORAGE=s3" })));
  }
  return {
    kind: "s3",
    bucket: e.S3_BUCKET as string,
    endpoint: e.S3_ENDPOINT,
    publicEndpoint: e.S3_PUBLIC_ENDPOINT,
    region: e.S3_REGION,
    accessKeyId: e.S3_ACCESS_KEY_ID as string,
    secretAccessKey: e.S3_SECRET_ACCESS_KEY as string,
    forcePathStyle: e.S3_FORCE_PATH_STYLE ?? e.S3_ENDPOINT !== undefined,
    prefix: e.S3_PREFIX,
    tempDir: path.join(dataDir, ".tmp"),
  };
}
