import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

import { assertValidRange } from "./byte-range.ts";
import { assertValidContentType, contentTypeForKey } from "./content-type.ts";
import { ensureDir, fsyncFile, isNotFound, moveFileAtomic, scratchPath, sweepDir, unlinkIfExists, writeFileAtomic } from "./local-fs.ts";
import type { ByteRange, ObjectStorage, StoredObjectInfo } from "./object-storage.ts";
import { assertValidKey, StorageKeyError } from "./storage-keys.ts";

export interface LocalStorageOptions {
  /** Directory that holds everything; created on first write. */
  root: string;
}

export interface LocalStorage extends ObjectStorage {
  /** Absolute storage root. */
  readonly root: string;
  /**
   * Delete temp files (abandoned downloads after a crash) last modified more than `olderThanMs`
   * milliseconds ago; returns how many were removed.
   */
  sweepTempFiles(olderThanMs: number, nowMs?: number): Promise<number>;
}

interface ContentTypeSidecar {
  content_type: string;
}

/**
 * Objects on the local filesystem under `root`:
 * - `{root}/{key}`: the object's bytes;
 * - `{root}/.meta/{key}.json`: `{"content_type": "..."}` recorded by `putFile` when the type is not
 *   the one the key's extension implies (an object without one gets the implied type);
 * - `{root}/.tmp/`: downloads in progress and scratch files, on the same filesystem so every write
 *   ends in one atomic rename.
 * Keys may not have segments starting with `.`, so they can never reach `.meta/` or `.tmp/`.
 */
export function createLocalStorage(options: LocalStorageOptions): LocalStorage {
  if (!options.root) throw new TypeError("createLocalStorage: root is required");
  const root = path.resolve(options.root);
  const tmpDir = path.join(root, ".tmp");
  const metaDir = path.join(root, ".meta");

  function inside(base: string, key: string, suffix = ""): string {
    assertValidKey(key);
    const resolved = path.join(base, ...key.split("/")) + suffix;
    // Belt and braces: key validation already rules out every way out of the root.
    if (!resolved.startsWith(base + path.sep)) throw new StorageKeyError(key, "resolves outside the storage root");
    return resolved;
  }
  const objectPath = (key: string): string => inside(root, key);
  const sidecarPath = (key: string): string => inside(metaDir, key, ".json");

  async function readContentType(key: string): Promise<string> {
    try {
      const sidecar = JSON.parse(await readFile(sidecarPath(key), "utf8")) as Partial<ContentTypeSidecar>;
      if (typeof sidecar.content_type === "string") return sidecar.content_type;
    } catch (error) {
      if (!isNotFound(error) && !(error instanceof SyntaxError)) throw error;
    }
    return contentTypeForKey(key);
  }

  async function fileSize(key: string): Promise<number | null> {
    try {
      const info = await stat(objectPath(key));
      return info.isFile() ? info.size : null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  return {
    root,

    async tempFilePath() {
      await ensureDir(tmpDir);
      return scratchPath(tmpDir, ".part");
    },

    async putFile(key, srcPath, { contentType }) {
      const dest = objectPath(key);
      assertValidContentType(contentType);
      await fsyncFile(srcPath);
      if (contentType === contentTypeForKey(key)) {
        // The extension says it already (every output we store): no sidecar to write, but one
        // left by an earlier put of another type must not outlive it.
        await unlinkIfExists(sidecarPath(key));
      } else {
        // The type is recorded before the bytes appear, so a reader never sees a new object without it.
        const sidecar: ContentTypeSidecar = { content_type: contentType };
        await writeFileAtomic(sidecarPath(key), JSON.stringify(sidecar), tmpDir);
      }
      await moveFileAtomic(srcPath, dest, tmpDir);
      return { bytes: (await stat(dest)).size };
    },

    async putJson(key, value) {
      const dest = objectPath(key);
      const text = JSON.stringify(value);
      if (text === undefined) throw new TypeError(`putJson(${key}): value is not JSON-serialisable`);
      await writeFileAtomic(dest, `${text}\n`, tmpDir);
    },

    async getJson<T>(key: string): Promise<T | null> {
      let text: string;
      try {
        text = await readFile(objectPath(key), "utf8");
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
      return JSON.parse(text) as T;
    },

    async stat(key): Promise<StoredObjectInfo | null> {
      const bytes = await fileSize(key);
      if (bytes === null) return null;
      return { bytes, contentType: await readContentType(key) };
    },

    createReadStream(key, range?: ByteRange): Readable {
      const file = objectPath(key);
      if (range === undefined) return createReadStream(file);
      assertValidRange(range);
      return createReadStream(file, { start: range.start, end: range.end });
    },

    async delete(key) {
      // Bytes first: a leftover sidecar without bytes is invisible, the reverse would not be.
      await unlinkIfExists(objectPath(key));
      await unlinkIfExists(sidecarPath(key));
    },

    async exists(key) {
      return (await fileSize(key)) !== null;
    },

    sweepTempFiles(olderThanMs, nowMs = Date.now()) {
      return sweepDir(tmpDir, olderThanMs, nowMs);
    },
  };
}
