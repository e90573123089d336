import { createLocalStorage, type LocalStorageOptions } from "./local-storage.ts";
import type { ObjectStorage } from "./object-storage.ts";
import { createS3Storage, type S3StorageOptions } from "./s3-storage.ts";

/** Which driver and its settings; `@acebatch/config`'s `loadStorageConfig` produces this shape. */
export type StorageConfig = ({ kind: "local" } & LocalStorageOptions) | ({ kind: "s3" } & S3StorageOptions);

/** The storage a service uses, from its parsed config: one call in `main.ts`. */
export function createStorage(config: StorageConfig): ObjectStorage {
  if (config.kind === "s3") {
    const { kind: _kind, ...options } = config;
    return createS3Storage(options);
  }
  return createLocalStorage({ root: config.root });
}
