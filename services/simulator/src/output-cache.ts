import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, open, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createWavStream, wavByteLength, type WavStreamOptions } from "@acebatch/audio";

interface Entry {
  bytes: number;
  /** Resolves to the rendered file's path once it is complete. */
  path: Promise<string>;
}

/**
 * Synthesized WAVs kept as files in a temp directory (never in memory), keyed by what they are
 * synthesized from (the same options always give the same bytes), so identical outputs are
 * rendered once: for load tests where synthesis, not the client under test, would be the
 * bottleneck. Concurrent downloads of one file wait for a single render. Least recently used files
 * are deleted once the total passes `maxBytes()` (0 = off); a download already reading a deleted
 * file keeps its open handle.
 */
export function createOutputCache(maxBytes: () => number) {
  const entries = new Map<string, Entry>();
  let total = 0;
  let renders = 0;
  let dir: Promise<string> | null = null;
  let closed = false;

  const keyOf = (o: WavStreamOptions): string =>
    createHash("sha256")
      .update(JSON.stringify([o.durationSeconds, o.sampleRate ?? null, o.channels ?? null, o.seed, o.tags ?? ""]))
      .digest("hex");

  const drop = (key: string, entry: Entry): void => {
    entries.delete(key);
    total -= entry.bytes;
    void entry.path.then((path) => rm(path, { force: true })).catch(() => undefined);
  };

  /** Drop least recently used files until the total fits `limit`, sparing `keep`. */
  const trim = (limit: number, keep?: string): void => {
    for (const [key, entry] of entries) {
      if (total <= limit) return;
      if (key !== keep) drop(key, entry);
    }
  };

  async function render(options: WavStreamOptions, key: string): Promise<string> {
    dir ??= mkdtemp(join(tmpdir(), "acebatch-sim-outputs-"));
    // A name per render: a dropped file's deletion never hits a later render of the same key.
    const final = join(await dir, `${key}-${++renders}.wav`);
    const part = `${final}.part`;
    try {
      await pipeline(createWavStream(options), createWriteStream(part));
      await rename(part, final);
      return final;
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    }
  }

  /** The path of the rendered file, or null when the cache is off or the file would not fit it. */
  function file(options: WavStreamOptions): Promise<string> | null {
    const limit = closed ? 0 : maxBytes();
    const bytes = wavByteLength(options);
    if (bytes > limit) {
      trim(limit);
      return null;
    }
    const key = keyOf(options);
    const hit = entries.get(key);
    if (hit !== undefined) {
      entries.delete(key); // re-inserted last: most recently used
      entries.set(key, hit);
      return hit.path;
    }
    const entry: Entry = { bytes, path: render(options, key) };
    entries.set(key, entry);
    total += bytes;
    entry.path.catch(() => {
      if (entries.get(key) === entry) {
        entries.delete(key);
        total -= bytes;
      }
    });
    trim(limit, key);
    return entry.path;
  }

  return {
    file,
    /**
     * The file opened for reading, or null when it is not cached (cache off, file too big, render
     * failed, or dropped before it could be opened): the caller then synthesizes as it streams.
     */
    async open(options: WavStreamOptions): Promise<Readable | null> {
      const path = file(options);
      if (path === null) return null;
      try {
        return (await open(await path)).createReadStream();
      } catch {
        return null;
      }
    },
    /** Files cached (or being rendered) and their total size. */
    stats: () => ({ files: entries.size, bytes: total }),
    /** Delete every file and the directory; later calls render nothing. */
    async close(): Promise<void> {
      closed = true;
      const paths = [...entries.values()].map((e) => e.path.catch(() => null));
      entries.clear();
      total = 0;
      await Promise.all(paths);
      const path = await dir?.catch(() => null);
      if (path) await rm(path, { recursive: true, force: true });
    },
  };
}

export type OutputCache = ReturnType<typeof createOutputCache>;
