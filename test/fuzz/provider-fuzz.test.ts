import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AudioProbeError, createWavMeter, probeAudioFile, wavPeaks } from "@acebatch/audio";
import { createRunComfyClient, ProviderError, type RunComfyClient } from "@acebatch/provider";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, nasty, RUNS } from "./fuzz-support.ts";

// What comes back from outside: provider answers (any status, headers and body) and downloaded
// files (any bytes, and WAV headers with hostile fields). The client must answer with a typed
// result or a ProviderError; the audio readers with a measurement, null (peaks of an encoding only
// ffmpeg decodes) or an AudioProbeError. Never another exception, never a hang.
let cases = 0;
let server: Server;
let client: RunComfyClient;
let dir: string;
let next: { status: number; headers: Record<string, string>; body: Buffer } = { status: 200, headers: {}, body: Buffer.alloc(0) };

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(next.status, next.headers);
    res.end(next.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  client = createRunComfyClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, token: "rc_fuzz_token_0123456789", requestTimeoutMs: 2_000 });
  dir = await mkdtemp(join(tmpdir(), "acebatch-fuzz-files-"));
});
afterAll(async () => {
  console.log(`[fuzz] provider answers and downloaded files: ${cases} cases tried`);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function settle<T>(promise: Promise<T>, allowed: (err: unknown) => boolean): Promise<T | Error> {
  cases++;
  try {
    return await promise;
  } catch (err) {
    if (!allowed(err)) throw err;
    expect((err as Error).message.length).toBeGreaterThan(0);
    return err as Error;
  }
}

const statuses = fc.constantFrom(200, 200, 200, 200, 200, 201, 202, 204, 301, 400, 401, 402, 403, 404, 409, 410, 422, 429, 500, 502, 503, 504);
const shaped = fc.record(
  {
    request_id: nasty,
    status: fc.oneof(nasty, fc.constantFrom("in_queue", "in_progress", "completed", "cancelled", "failed", "IN_QUEUE", "succeeded")),
    status_url: nasty,
    result_url: nasty,
    outputs: fc.oneof(json, fc.record({ audio: fc.oneof(nasty, fc.record({ url: nasty }), fc.array(fc.record({ url: nasty }), { maxLength: 3 })) })),
    cost: nasty,
    error: fc.oneof(nasty, json),
    error_code: nasty,
    error_message: nasty,
  },
  { requiredKeys: [] },
);
/** Answers shaped as the provider documents them, with plausible values: these must parse. */
const plausible = fc.record({
  request_id: fc.stringMatching(/^[a-z0-9-]{1,36}$/),
  status: fc.constantFrom("in_queue", "in_progress", "completed", "cancelled"),
  status_url: fc.constant("https://model-api.runcomfy.net/v1/requests/r/status"),
  result_url: fc.constant("https://model-api.runcomfy.net/v1/requests/r/result"),
  outputs: fc.record({ audio: fc.constantFrom("https://cdn.example/a.wav", "https://cdn.example/b.mp3") }),
});
const bodies = fc.oneof(
  plausible.map((v) => Buffer.from(JSON.stringify(v))),
  shaped.map((v) => Buffer.from(JSON.stringify(v))),
  json.map((v) => Buffer.from(JSON.stringify(v) ?? "")),
  shaped.map((v) => Buffer.from(JSON.stringify(v).slice(0, -3))),
  fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b)),
);
const headers = fc.record(
  {
    "content-type": fc.constantFrom("application/json", "application/json; charset=utf-8", "text/html", "text/plain", "application/octet-stream"),
    "retry-after": fc.oneof(fc.constantFrom("0", "1", "-5", "abc", "Wed, 21 Oct 2099 07:28:00 GMT", "1e309", "99999999999"), fc.string({ maxLength: 20 }).map((s) => s.replace(/[^\x20-\x7e]/g, ""))),
  },
  { requiredKeys: [] },
);

describe("fuzzed provider answers", () => {
  it("submit, status, result and cancel answer with a typed result or a ProviderError", async () => {
    const answered = { results: 0, errors: 0 };
    await fc.assert(
      fc.asyncProperty(statuses, headers, bodies, fc.constantFrom("submit", "status", "result", "cancel"), async (status, head, body, call) => {
        next = { status, headers: head, body: status === 204 || status === 301 ? Buffer.alloc(0) : body };
        const outcome = await settle<unknown>(
          call === "submit"
            ? client.submit("acestep-ai/ace-step/text-to-audio", { tags: "x", duration: 30, seed: -1 })
            : call === "status"
              ? client.status("req-1")
              : call === "result"
                ? client.result("req-1")
                : client.cancel("req-1"),
          (err) => err instanceof ProviderError,
        );
        answered[outcome instanceof Error ? "errors" : "results"]++;
        if (!(outcome instanceof Error) && call === "submit") {
          expect((outcome as { requestId: unknown }).requestId).toEqual(expect.any(String));
          expect((outcome as { requestId: string }).requestId.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: RUNS * 2 },
    );
    // The generators reach both sides: well-formed answers parse, the rest are refused.
    expect(answered.results).toBeGreaterThan(0);
    expect(answered.errors).toBeGreaterThan(0);
  });
});

/** A RIFF/WAVE file with a `fmt ` and a `data` chunk whose every field is chosen by the fuzzer. */
const wavFile = fc
  .record({
    riffSize: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 0xffffffff })),
    fmtSize: fc.constantFrom(16, 18, 40, 0, 2, 1_000_000),
    audioFormat: fc.constantFrom(1, 3, 6, 7, 0xfffe, 0, 2),
    channels: fc.constantFrom(0, 1, 2, 6, 255, 65_535),
    sampleRate: fc.constantFrom(0, 1, 8_000, 44_100, 48_000, 0xffffffff),
    blockAlign: fc.constantFrom(0, 1, 2, 3, 4, 6, 65_535),
    bitsPerSample: fc.constantFrom(0, 1, 8, 12, 16, 24, 32, 64, 65_535),
    dataSize: fc.oneof(fc.constantFrom(0, 0xffffffff, 1, 3), fc.integer({ min: 0, max: 10_000 })),
    payload: fc.uint8Array({ maxLength: 4_000 }),
  })
  .map((f) => {
    const fields = Buffer.alloc(64);
    const fmt = fields.subarray(0, Math.min(f.fmtSize, 64));
    fields.writeUInt16LE(f.audioFormat, 0);
    fields.writeUInt16LE(f.channels, 2);
    fields.writeUInt32LE(f.sampleRate, 4);
    fields.writeUInt32LE((f.sampleRate * Math.max(1, f.blockAlign)) >>> 0, 8);
    fields.writeUInt16LE(f.blockAlign, 12);
    fields.writeUInt16LE(f.bitsPerSample, 14);
    const chunk = (id: string, size: number, body: Buffer) => {
      const h = Buffer.alloc(8);
      h.write(id, 0, "latin1");
      h.writeUInt32LE(size >>> 0, 4);
      return Buffer.concat([h, body]);
    };
    const body = Buffer.concat([Buffer.from("WAVE"), chunk("fmt ", f.fmtSize, fmt), chunk("data", f.dataSize, Buffer.from(f.payload))]);
    const riff = Buffer.alloc(8);
    riff.write("RIFF", 0, "latin1");
    riff.writeUInt32LE(f.riffSize === -1 ? body.length : f.riffSize, 4);
    return Buffer.concat([riff, body]);
  });
/** A well-formed PCM or float WAV of 1–2 channels, sometimes cut short or with trailing bytes. */
const plausibleWav = fc
  .record({ channels: fc.constantFrom(1, 2), bits: fc.constantFrom(8, 16, 24, 32), float: fc.boolean(), frames: fc.integer({ min: 0, max: 2_000 }), cut: fc.integer({ min: -50, max: 50 }), seed: fc.integer() })
  .map(({ channels, bits, float, frames, cut, seed }) => {
    const blockAlign = (channels * bits) / 8;
    const data = Buffer.alloc(frames * blockAlign);
    for (let i = 0; i < data.length; i++) data[i] = (seed + i * 2_654_435_761) & 0xff;
    const header = Buffer.alloc(44);
    header.write("RIFF", 0, "latin1");
    header.writeUInt32LE(36 + data.length, 4);
    header.write("WAVEfmt ", 8, "latin1");
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(float && bits === 32 ? 3 : 1, 20);
    header.writeUInt16LE(channels, 22);
    header.writeUInt32LE(8_000, 24);
    header.writeUInt32LE(8_000 * blockAlign, 28);
    header.writeUInt16LE(blockAlign, 32);
    header.writeUInt16LE(bits, 34);
    header.write("data", 36, "latin1");
    header.writeUInt32LE(data.length, 40);
    const file = Buffer.concat([header, data, Buffer.alloc(Math.max(0, cut))]);
    return cut < 0 ? file.subarray(0, Math.max(0, file.length + cut)) : file;
  });
const files = fc.oneof(
  plausibleWav,
  wavFile,
  fc.uint8Array({ maxLength: 3_000 }).map((b) => Buffer.from(b)),
  fc.tuple(fc.constantFrom("ID3", "fLaC", "OggS", "RIFF", "\xff\xfb"), fc.uint8Array({ maxLength: 2_000 })).map(([magic, rest]) => Buffer.concat([Buffer.from(magic, "latin1"), Buffer.from(rest)])),
);

describe("fuzzed downloaded files", () => {
  it("probing and WAV peaks answer with a measurement, null, or an AudioProbeError", async () => {
    let n = 0;
    let measured = 0;
    await fc.assert(
      fc.asyncProperty(files, async (bytes) => {
        const path = join(dir, `f${n++}`);
        await writeFile(path, bytes);
        const probe = await settle(probeAudioFile(path), (err) => err instanceof AudioProbeError);
        if (!(probe instanceof Error)) {
          expect(Number.isFinite(probe.durationSeconds)).toBe(true);
          expect(probe.durationSeconds).toBeGreaterThanOrEqual(0);
          expect(probe.bytes).toBe(bytes.length);
        }
        const peaks = await settle(wavPeaks(path, { columns: 50 }), (err) => err instanceof AudioProbeError);
        if (peaks && !(peaks instanceof Error)) {
          measured++;
          expect(peaks.peaks).toHaveLength(50);
          for (const [lo, hi] of peaks.peaks) {
            expect(lo).toBeGreaterThanOrEqual(-1);
            expect(hi).toBeLessThanOrEqual(1);
          }
        }
        await rm(path, { force: true });
      }),
      { numRuns: RUNS * 2 },
    );
    // Some generated WAVs are valid enough to be read to the end.
    expect(measured).toBeGreaterThan(0);
  });

  it("the download's WAV meter, fed in any chunks, never throws and agrees with reading the file back", async () => {
    let n = 0;
    let metered = 0;
    await fc.assert(
      fc.asyncProperty(files, fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }), async (bytes, sizes) => {
        cases++;
        const meter = createWavMeter(50);
        for (let at = 0, i = 0; at < bytes.length; i++) {
          const size = sizes[i % sizes.length]!;
          meter.push(bytes.subarray(at, at + size));
          at += size;
        }
        const measurement = meter.finish(bytes.length);
        if (measurement === null) return; // the download then measures the file on disk
        metered++;
        const path = join(dir, `m${n++}`);
        await writeFile(path, bytes);
        const probe = await probeAudioFile(path);
        expect([measurement.info.durationSeconds, measurement.info.sampleRate, measurement.info.channels]).toEqual([probe.durationSeconds, probe.sampleRate, probe.channels]);
        expect(measurement.peaks).toEqual(await wavPeaks(path, { columns: 50 }));
        await rm(path, { force: true });
      }),
      { numRuns: RUNS * 2 },
    );
    expect(metered).toBeGreaterThan(0);
  });
});
