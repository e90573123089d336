import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { createWavStream, probeAudioFile, type AudioProbe } from "@acebatch/audio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startSimulator, type RunningSimulator } from "./start.ts";
import { collect, startSourceServer, TOKEN } from "./test-support.ts";

const T2A = "acestep-ai/ace-step/text-to-audio";
const T2A_15 = "acestep-ai/ace-step-1.5/text-to-audio";
const INPAINT = "acestep-ai/ace-step/audio-inpaint";
const OUTPAINT = "acestep-ai/ace-step/audio-outpaint";

function flac(sampleRate: number, totalSamples: number): Buffer {
  const b = Buffer.alloc(42);
  b.write("fLaC", 0, "ascii");
  b[4] = 0x80;
  b.writeUIntBE(34, 5, 3);
  b.writeUInt16BE(4096, 8);
  b.writeUInt16BE(4096, 10);
  b.writeBigUInt64BE((BigInt(sampleRate) << 44n) | (1n << 41n) | (15n << 36n) | BigInt(totalSamples), 18);
  return b;
}

/** A WAV whose data chunk says "to end of file", served chunked: only a byte count can measure it. */
async function openEndedWav(seconds: number): Promise<Buffer> {
  const wav = await collect(createWavStream({ durationSeconds: seconds, sampleRate: 8_000, channels: 1, seed: 2 }));
  wav.writeUInt32LE(0xffff_ffff, 40);
  return wav;
}

let sim: RunningSimulator;
let sources: Awaited<ReturnType<typeof startSourceServer>>;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "acebatch-sim-test-"));
  sim = await startSimulator({ token: TOKEN });
  sources = await startSourceServer({
    // Streamed without Content-Length: the simulator must stop after the header.
    "/song.wav": { body: () => createWavStream({ durationSeconds: 12.5, seed: 9, tags: "folk" }), headers: { "content-type": "audio/wav" } },
    "/open-ended.wav": { body: await openEndedWav(3.25) },
    "/song.flac": { body: flac(44_100, 44_100 * 4) },
    "/long.wav": { body: () => createWavStream({ durationSeconds: 230, sampleRate: 8_000, channels: 1, seed: 1 }) },
    "/page.html": { body: "<!DOCTYPE html><html><body>hello</body></html>", headers: { "content-type": "text/html" } },
    "/cut.wav": { body: (await collect(createWavStream({ durationSeconds: 1, seed: 1 }))).subarray(0, 30) },
  });
});

afterAll(async () => {
  await sim?.close();
  await sources?.close();
  await rm(dir, { recursive: true, force: true });
});

async function call(method: "GET" | "POST", path: string, body?: unknown): Promise<Response> {
  return fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
}

/** Submit, wait for a terminal status, return the final result body. */
async function run(model: string, input: unknown): Promise<{ request_id: string; status: string; output: { audio: string } | null; error: string | null }> {
  const submitted = await call("POST", `/models/${model}`, input);
  expect(submitted.status).toBe(200);
  const { request_id } = (await submitted.json()) as { request_id: string };
  await sim.state.settled();
  for (let i = 0; i < 100; i++) {
    const result = (await (await call("GET", `/requests/${request_id}/result`)).json()) as Awaited<ReturnType<typeof run>>;
    if (result.status !== "in_queue" && result.status !== "in_progress") return result;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("request never finished");
}

/** Download without the token, as the provider's CDN is used, and measure it. */
async function download(url: string): Promise<{ probe: AudioProbe; response: Response }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  const path = join(dir, `${Math.random().toString(36).slice(2)}.wav`);
  await pipeline(Readable.fromWeb(response.body as WebReadableStream), createWriteStream(path));
  return { probe: await probeAudioFile(path), response };
}

describe("output audio", () => {
  it.each([
    [T2A, { tags: "lo-fi, 80 BPM", duration: 7 }, 7],
    [T2A_15, { tags: "synthwave", duration: 5, seed: 77 }, 5],
  ])("%s serves a WAV of exactly the requested duration", async (model, input, seconds) => {
    const result = await run(model, input);
    expect(result.status).toBe("completed");
    const { probe, response } = await download(result.output!.audio);
    expect(probe).toMatchObject({ format: "wav", durationSeconds: seconds, sampleRate: 48_000, channels: 2 });
    expect(response.headers.get("content-type")).toBe("audio/wav");
    expect(Number(response.headers.get("content-length"))).toBe(probe.bytes);
  });

  it("inpaint returns the source's length", async () => {
    const result = await run(INPAINT, { tags: "folk", audio: sources.url("/song.wav"), start_time: 2, end_time: 6 });
    expect(result.status).toBe("completed");
    expect((await download(result.output!.audio)).probe.durationSeconds).toBe(12.5);
  });

  it("outpaint returns source + extend_before + extend_after", async () => {
    const result = await run(OUTPAINT, { tags: "folk", audio: sources.url("/song.wav"), extend_before_duration: 2, extend_after_duration: 3.5 });
    expect(result.status).toBe("completed");
    expect((await download(result.output!.audio)).probe.durationSeconds).toBe(18);
  });

  it("measures an open-ended WAV by its byte count and a FLAC through its metadata", async () => {
    const open = await run(INPAINT, { tags: "x", audio: sources.url("/open-ended.wav") });
    expect((await download(open.output!.audio)).probe.durationSeconds).toBe(3.25);
    const fromFlac = await run(OUTPAINT, { tags: "x", audio: sources.url("/song.flac"), extend_after_duration: 1 });
    expect((await download(fromFlac.output!.audio)).probe.durationSeconds).toBe(5);
  });

  it("bills inpaint and outpaint by their output seconds", async () => {
    sim.state.reset();
    await run(OUTPAINT, { tags: "folk", audio: sources.url("/song.wav"), extend_after_duration: 7.5 });
    expect(sim.state.stats()).toMatchObject({ billed_seconds: 20, billed_usd: 0.004 });
  });

  it("follows the sample_rate setting", async () => {
    await fetch(`${sim.origin}/__sim/config`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ sample_rate: 16_000 }) });
    try {
      const result = await run(T2A, { tags: "x", duration: 5 });
      expect((await download(result.output!.audio)).probe).toMatchObject({ sampleRate: 16_000, durationSeconds: 5 });
    } finally {
      sim.state.reset();
    }
  });

  it("serves the same bytes from output_cache_bytes' files as it synthesizes without them", async () => {
    const input = { tags: "house, 124 BPM", duration: 5, seed: 5 };
    const bytes = async (url: string) => Buffer.from(await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).arrayBuffer());
    const streamed = await bytes((await run(T2A, input)).output!.audio);
    sim.state.updateConfig({ output_cache_bytes: 10 * 1024 * 1024 });
    try {
      const urls = [(await run(T2A, input)).output!.audio, (await run(T2A, input)).output!.audio];
      for (const body of await Promise.all(urls.map(bytes))) expect(body.equals(streamed)).toBe(true);
      const { probe } = await download(urls[0]!);
      expect(probe).toMatchObject({ durationSeconds: 5, sampleRate: 48_000, channels: 2, bytes: streamed.length });
    } finally {
      sim.state.reset();
    }
  });
});

describe("unusable sources end the request failed", () => {
  it.each([
    ["/missing.wav", /HTTP 404/],
    ["/page.html", /not an MP3, WAV, FLAC or Ogg/],
    ["/cut.wav", /truncated/],
  ])("%s", async (path, message) => {
    const result = await run(INPAINT, { tags: "x", audio: sources.url(path) });
    expect(result).toMatchObject({ status: "failed", output: null, error: expect.stringMatching(message) });
  });

  it("an unreachable host", async () => {
    const result = await run(OUTPAINT, { tags: "x", audio: "http://127.0.0.1:9/nothing.wav" });
    expect(result).toMatchObject({ status: "failed", error: expect.stringMatching(/could not fetch source audio/) });
  });

  it("an outpaint that would exceed 240 s", async () => {
    const result = await run(OUTPAINT, { tags: "x", audio: sources.url("/long.wav"), extend_after_duration: 30 });
    expect(result).toMatchObject({ status: "failed", error: expect.stringMatching(/260\.0 s.*240 s/) });
    expect(sim.state.stats().billed_seconds).toBe(0);
  });
});

describe("GET /files", () => {
  it("404s for unknown ids, bad names and unfinished requests", async () => {
    expect((await fetch(`${sim.origin}/files/00000000-0000-0000-0000-000000000000.wav`)).status).toBe(404);
    expect((await fetch(`${sim.origin}/files/not-a-file`)).status).toBe(404);
    sim.state.updateConfig({ speed: 0.001 });
    try {
      const submitted = await call("POST", `/models/${T2A}`, { tags: "x", duration: 5 });
      const { request_id } = (await submitted.json()) as { request_id: string };
      expect(((await (await call("GET", `/requests/${request_id}/status`)).json()) as { status: string }).status).toBe("in_progress");
      const early = await fetch(`${sim.origin}/files/${request_id}.wav`);
      expect(early.status).toBe(404);
      expect(await early.json()).toMatchObject({ error_code: 404001 });
    } finally {
      sim.state.reset();
    }
  });

  it("HEAD gives the size without rendering or counting a download", async () => {
    const done = await run(T2A, { tags: "x", duration: 5 });
    const downloadsBefore = sim.state.stats().downloads;
    const head = await fetch(done.output!.audio, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(44 + 5 * 48_000 * 4));
    expect(sim.state.stats().downloads).toBe(downloadsBefore);
  });

  it("waits download_delay_ms before answering", async () => {
    const done = await run(T2A, { tags: "x", duration: 5 });
    sim.state.updateConfig({ download_delay_ms: 300 });
    try {
      const started = Date.now();
      const response = await fetch(done.output!.audio);
      await response.arrayBuffer();
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    } finally {
      sim.state.reset();
    }
  });
});
