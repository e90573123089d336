import type { Readable } from "node:stream";

/** What `stat` knows about a stored object. */
export interface StoredObjectInfo {
  /** Size in bytes. */
  bytes: number;
  contentType: string;
}

/** An inclusive byte range, as in an HTTP `Range: bytes=start-end` header. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where finished audio and its metadata live. Keys are relative POSIX paths such as
 * `jobs/job_x/original.wav` (see `assertValidKey`). Kept deliberately small so that every driver
 * (local filesystem, S3) implements it the same way: no directory listing, no partial writes, no
 * renames.
 */
export interface ObjectStorage {
  /**
   * A fresh local path for a download to stream into; the file does not exist yet. (Local driver:
   * on the same filesystem as the objects, so `putFile` is one atomic rename. S3: a scratch file
   * under its `tempDir`, uploaded by `putFile`.)
   */
  tempFilePath(): Promise<string>;

  /**
   * Move the finished file at `srcPath` into place under `key` (the source is gone afterwards).
   * Readers see either the previous object or the new one, never a partial file; putting the same
   * key again replaces it.
   */
  putFile(key: string, srcPath: string, options: { contentType: string }): Promise<{ bytes: number }>;

  /** Store `value` as JSON under `key`, atomically. */
  putJson(key: string, value: unknown): Promise<void>;

  /** The JSON stored under `key`, or null when there is none. The value is NOT validated: parse it. */
  getJson<T>(key: string): Promise<T | null>;

  /** Size and content type of the object, or null when there is none. */
  stat(key: string): Promise<StoredObjectInfo | null>;

  /**
   * The object's bytes, or only `range` (inclusive, like HTTP). A missing object surfaces as an
   * `error` event with `code: "ENOENT"` on the stream: call `stat` first to answer 404 cleanly.
   */
  createReadStream(key: string, range?: ByteRange): Readable;

  /** Remove the object; removing one that does not exist is not an error. */
  delete(key: string): Promise<void>;

  exists(key: string): Promise<boolean>;

  /**
   * A URL that anyone holding it can GET the object's bytes from, valid for `ttlSeconds` seconds,
   * served by the store itself (S3). Drivers without one (local) leave it undefined: callers then
   * hand out a signed URL of our own API instead.
   */
  presignedGetUrl?(key: string, ttlSeconds: number): Promise<string>;
}
