export type { ByteRange, ObjectStorage, StoredObjectInfo } from "./object-storage.ts";
export { createLocalStorage, type LocalStorage, type LocalStorageOptions } from "./local-storage.ts";
export { createS3Storage, type S3Storage, type S3StorageOptions } from "./s3-storage.ts";
export { createStorage, type StorageConfig } from "./create-storage.ts";
export { assertValidKey, audioKey, metadataKey, MAX_KEY_LENGTH, StorageKeyError } from "./storage-keys.ts";
export { contentTypeForKey } from "./content-type.ts";
export type { StoredAudioMetadata } from "./audio-metadata.ts";
export { createUrlSigner, type UrlSigner } from "./url-signer.ts";
