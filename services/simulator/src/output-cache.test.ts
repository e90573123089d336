import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { createWavStream, wavByteLength, type WavStreamOptions } from "@acebatch/audio";
import { describe, expect, it } from "vitest";

import { createOutputCache } from "./output-cache.ts";
import { collect } from "./test-support.ts";

const wav = (seed: number): WavStreamOptions => ({ durationSeconds: 0.5, sampleRate: 8_000, channels: 2, seed, tags: "lo-fi, 90 BPM" });
const SIZE = wavByteLength(wav(1));

describe("createOutputCache", () => {
  it("is off at 0 bytes and for files larger than the limit", async () => {
    let limit = 0;
    const cache = createOutputCache(() => limit);
    expect(cache.file(wav(1))).toBeNull();
    expect(await cache.open(wav(1))).toBeNull();
    limit = SIZE - 1;
    expect(cache.file(wav(1))).toBeNull();
    expect(cache.stats()).toEqual({ files: 0, bytes: 0 });
    await cache.close();
  });

  it("renders identical outputs once, to a file holding exactly what the stream gives", async () => {
    const cache = createOutputCache(() => 10 * SIZE);
    const first = cache.file(wav(1));
    const second = cache.file({ ...wav(1) });
    expect(second).toBe(first);
    const path = await first!;
    expect(await readFile(path)).toEqual(await collect(createWavStream(wav(1))));
    expect(await collect((await cache.open(wav(1)))!)).toEqual(await readFile(path));
    expect(cache.file(wav(2))).not.toBe(first);
    expect(cache.stats()).toEqual({ files: 2, bytes: 2 * SIZE });
    await cache.close();
  });

  it("deletes least recently used files past the limit, and all of them when it drops to 0", async () => {
    let limit = 2 * SIZE;
    const cache = createOutputCache(() => limit);
    const a = await cache.file(wav(1))!;
    const b = await cache.file(wav(2))!;
    await cache.file(wav(1)); // a is now the most recently used
    const c = await cache.file(wav(3))!;
    await new Promise((resolve) => setTimeout(resolve, 50)); // deletions run in the background
    expect([existsSync(a), existsSync(b), existsSync(c)]).toEqual([true, false, true]);
    expect(cache.stats()).toEqual({ files: 2, bytes: 2 * SIZE });

    limit = 0;
    expect(cache.file(wav(1))).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect([existsSync(a), existsSync(c)]).toEqual([false, false]);
    expect(cache.stats()).toEqual({ files: 0, bytes: 0 });
    await cache.close();
  });

  it("close() removes its directory and turns the cache off", async () => {
    const cache = createOutputCache(() => 10 * SIZE);
    const path = await cache.file(wav(1))!;
    await cache.close();
    expect(existsSync(dirname(path))).toBe(false);
    expect(cache.file(wav(1))).toBeNull();
  });
});
