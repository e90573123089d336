import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { wavPeaks } from "@acebatch/audio";

import { downloadAudio } from "./download-audio.ts";
import { DownloadError } from "./download-error.ts";
import { createRunComfyClient } from "./runcomfy-client.ts";
import { makeWav } from "./test-support/make-wav.ts";
import { sendJson, startScriptedServer, type ScriptedServer } from "./test-support/scripted-server.ts";

let cdn: ScriptedServer;
let dir: string;
let dest: string;

beforeEach(async () => {
  cdn = await startScriptedServer();
  dir = await mkdtemp(path.join(tmpdir(), "acebatch-download-"));
  dest = path.join(dir, "out.part");
});
afterEach(async () => {
  await cdn.close();
  await rm(dir, { recursive: true, force: true });
});

async function downloadError(promise: Promise<unknown>): Promise<DownloadError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DownloadError);
  return error as DownloadError;
}

async function expectNoFile(): Promise<void> {
  await expect(stat(dest)).rejects.toMatchObject({ code: "ENOENT" });
}

describe("downloadAudio", () => {
  it("streams a WAV to disk and reports size, sha256 and measured duration", async () => {
    const wav = makeWav({ seconds: 1.5, sampleRate: 8_000, channels: 2 });
    cdn.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": wav.length });
      res.end(wav);
    });
    const result = await downloadAudio({ url: `${cdn.origin}/files/out.mp3?sig=abc`, destPath: dest, maxBytes: 1_000_000 });
    expect(result).toEqual({
      bytes: wav.length,
      sha256: createHash("sha256").update(wav).digest("hex"),
      format: "wav", // from the bytes, not the .mp3 in the URL
      contentType: "audio/wav",
      durationSeconds: 1.5,
      sampleRate: 8_000,
      channels: 2,
      peaks: null, // none asked for
    });
    expect(Buffer.compare(await readFile(dest), wav)).toBe(0);
    expect(cdn.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("handles a chunked body in small pieces", async () => {
    const wav = makeWav({ seconds: 0.5 });
    cdn.handle(async (_req, res) => {
      res.writeHead(200, { "content-type": "audio/wav" });
      for (let i = 0; i < wav.length; i += 5) {
        res.write(wav.subarray(i, i + 5));
        if (i < 40) await new Promise((resolve) => setTimeout(resolve, 2));
      }
      res.end();
    });
    const result = await downloadAudio({ url: `${cdn.origin}/a`, destPath: dest, maxBytes: 1_000_000 });
    expect(result).toMatchObject({ bytes: wav.length, durationSeconds: 0.5, format: "wav" });
  });

  it("folds the waveform peaks of a 16-bit WAV as it arrives, the same as reading the file back", async () => {
    const wav = makeWav({ seconds: 0.75, sampleRate: 8_000, channels: 2 });
    cdn.handle(async (_req, res) => {
      res.writeHead(200, { "content-type": "audio/wav" });
      for (let i = 0; i < wav.length; i += 777) res.write(wav.subarray(i, i + 777)); // odd-sized pieces
      res.end();
    });
    const result = await downloadAudio({ url: `${cdn.origin}/a`, destPath: dest, maxBytes: 1_000_000, waveformColumns: 120 });
    expect(result).toMatchObject({ format: "wav", durationSeconds: 0.75, sampleRate: 8_000, channels: 2 });
    expect(result.peaks).toEqual(await wavPeaks(dest, { columns: 120 }));
    // Not a trivially equal pair of empty results: the ramp shows below and above zero.
    expect(result.peaks!.peaks.some(([min]) => min < 0) && result.peaks!.peaks.some(([, max]) => max > 0)).toBe(true);
  });

  it("measures a WAV it cannot fold from the file on disk, without peaks", async () => {
    const wav = makeWav({ seconds: 0.5, sampleRate: 8_000, channels: 1, bitsPerSample: 24 });
    cdn.handle((_req, res) => {
      res.end(wav);
    });
    const result = await downloadAudio({ url: `${cdn.origin}/a`, destPath: dest, maxBytes: 1_000_000, waveformColumns: 120 });
    expect(result).toMatchObject({ format: "wav", durationSeconds: 0.5, sampleRate: 8_000, channels: 1, peaks: null });
  });

  it("refuses a body that is not audio and deletes the partial file", async () => {
    cdn.handle((_req, res) => {
      res.writeHead(200, { "content-type": "audio/wav" });
      res.end(`<html><body>${"access denied ".repeat(1000)}</body></html>`);
    });
    const error = await downloadError(downloadAudio({ url: `${cdn.origin}/a.wav`, destPath: dest, maxBytes: 1_000_000 }));
    expect(error).toMatchObject({ code: "download_not_audio", retryable: false, host: new URL(cdn.origin).host });
    expect(error.message).toContain(new URL(cdn.origin).host);
    expect(error.message).toMatch(/not WAV, MP3, FLAC or Ogg/);
    await expectNoFile();
  });

  it("refuses a body with audio magic bytes that cannot be measured", async () => {
    const bogus = Buffer.concat([Buffer.from("RIFF\x10\x00\x00\x00WAVE", "latin1"), Buffer.alloc(64, 0x41)]);
    cdn.handle((_req, res) => {
      res.writeHead(200, { "content-length": bogus.length });
      res.end(bogus);
    });
    const error = await downloadError(downloadAudio({ url: `${cdn.origin}/a`, destPath: dest, maxBytes: 1_000 }));
    expect(error).toMatchObject({ code: "download_not_audio", retryable: false });
    expect(error.message).toContain("could not be measured");
    await expectNoFile();
  });

  it("refuses an empty body", async () => {
    cdn.handle((_req, res) => {
      res.writeHead(200, { "content-length": 0 });
      res.end();
    });
    expect(await downloadError(downloadAudio({ url: `${cdn.origin}/a`, destPath: dest, maxBytes: 1_000 }))).toMatchObject({ code: "download_not_audio" });
    await expectNoFile();
  });

  it("refuses a declared Content-Length above the cap before reading the body", async () => {
    const wav = makeWav({ seconds: 1 });
    cdn.handle((_req, res) => {
      res.writeHead(200, { "content-length": wav.length });
      res.end(wav);
    });
    const error = await downloadError(downloadAudio({ url: `${cdn.origin}/a`, destPath: dest, maxBytes: 1_000 }));
    expect(error).toMatchObject({ code: "download_too_large", retryable: false });
    expect(error.message).toContain(`Content-Length ${wav.length}`);
    await expectNoFile();
  });

  it("stops a body without Content-Length once it passes the cap", async () => {
    const wav = makeWav({ seconds: 1 });
    cdn.handle((_req, res) => {
      res.writeHead(200, { "content-type": "audio/wav" });
      res.write(wav.subarray(0, 800));
      res.end(wav.subarray(800));
    });
    const error = await downloadError(downloadAudio({ url: `${cdn.origin}/a`, destPath: dest, maxBytes: 1_000 }));
    expect(error).toMatchObject({ code: "download_too_large", retryable: false });
    expect(error.message).toContain("1000-byte limit");
    await expectNoFile();
  });

  it("gives up when no bytes arrive for idleTimeoutMs, and deletes the partial file", async () => {
    const wav = makeWav({ seconds: 1 });
    cdn.handle((_req, res) => {
      res.writeHead(200, { "content-length": wav.length });
      res.write(wav.subarray(0, 100)); // then stall
    });
    const started = Date.now();
    const error = await downloadError(downloadAudio({ url: `${cdn.origin}/a`, destPath: dest, maxBytes: 1_000_000, idleTimeoutMs: 200 }));
    expect(error).toMatchObject({ code: "download_failed", retryable: true });
    expect(error.message).toMatch(/no bytes received for 200 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expectNoFile();
  });

  it("gives up when the response headers do not come within connectTimeoutMs", async () => {
    cdn.handle(() => {});
    const error = await downloadError(downloadAudio({ url: `${cdn.origin}/a`, destPath: dest, maxBytes: 1_000, connectTimeoutMs: 150 }));
    expect(error).toMatchObject({ code: "download_failed", retryable: true });
    expect(error.message).toMatch(/no response within 150 ms/);
  });

  it("reports an HTTP error status as a retryable failure", async () => {
    cdn.handle((_req, res) => sendJson(res, 404, { message: "gone" }));
    const error = await downloadError(downloadAudio({ url: `${cdn.origin}/a`, destPath: dest, maxBytes: 1_000 }));
    expect(error).toMatchObject({ code: "download_failed", retryable: true, httpStatus: 404 });
    expect(error.message).toMatch(/HTTP 404.*expired/);
  });

  it("follows redirects (relative ones too) to the file", async () => {
    const wav = makeWav({ seconds: 0.5 });
    cdn.handle((req, res) => {
      if (req.url === "/signed") {
        res.writeHead(302, { location: "/cdn/file.wav" });
        res.end();
        return;
      }
      res.writeHead(200, { "content-length": wav.length });
      res.end(wav);
    });
    const result = await downloadAudio({ url: `${cdn.origin}/signed`, destPath: dest, maxBytes: 1_000_000 });
    expect(result).toMatchObject({ bytes: wav.length, format: "wav" });
    expect(cdn.requests.map((r) => r.url)).toEqual(["/signed", "/cdn/file.wav"]);
    expect(cdn.requests[1]?.headers.authorization).toBeUndefined();
  });

  it("gives up on a redirect loop, and follows no redirect away from http(s)", async () => {
    cdn.handle((_req, res) => {
      res.writeHead(307, { location: "/again" });
      res.end();
    });
    const loop = await downloadError(downloadAudio({ url: `${cdn.origin}/a`, destPath: dest, maxBytes: 1_000 }));
    expect(loop).toMatchObject({ code: "download_failed", retryable: true });
    expect(loop.message).toMatch(/more than 20 redirects/);
    expect(cdn.requests).toHaveLength(21);

    cdn.handle((_req, res) => {
      res.writeHead(301, { location: "file:///etc/passwd" });
      res.end();
    });
    const away = await downloadError(downloadAudio({ url: `${cdn.origin}/a`, destPath: dest, maxBytes: 1_000 }));
    expect(away).toMatchObject({ code: "download_failed", retryable: false });
    expect(away.message).toContain("only http(s)");
    await expectNoFile();
  });

  it("reports a connection closed in the middle of the body as a retryable network error", async () => {
    const wav = makeWav({ seconds: 1 });
    cdn.handle((_req, res) => {
      res.writeHead(200, { "content-length": wav.length });
      res.write(wav.subarray(0, 4_000), () => res.destroy());
    });
    const error = await downloadError(downloadAudio({ url: `${cdn.origin}/a`, destPath: dest, maxBytes: 1_000_000 }));
    expect(error).toMatchObject({ code: "download_failed", retryable: true });
    expect(error.message).toMatch(/network error/);
    await expectNoFile();
  });

  it("downloads only http(s) URLs", async () => {
    const error = await downloadError(downloadAudio({ url: "file:///etc/passwd", destPath: dest, maxBytes: 1_000 }));
    expect(error).toMatchObject({ code: "download_failed", retryable: false });
    expect(error.message).toContain("only http(s)");
  });

  it("never sends the API token to the download host", async () => {
    const token = "rc_token_that_must_stay_home";
    const api = await startScriptedServer();
    try {
      const wav = makeWav({ seconds: 0.25 });
      cdn.handle((_req, res) => {
        res.writeHead(200, { "content-length": wav.length });
        res.end(wav);
      });
      api.handle((_req, res) => sendJson(res, 200, { request_id: "r", status: "completed", output: { audio: `${cdn.origin}/out/r.wav` }, cost: 0.00005 }));
      const client = createRunComfyClient({ baseUrl: `${api.origin}/v1`, token });
      const result = await client.result("r");
      await downloadAudio({ url: result.audioUrl!, destPath: dest, maxBytes: 1_000_000 });
      expect(api.requests[0]?.headers.authorization).toBe(`Bearer ${token}`);
      expect(cdn.requests).toHaveLength(1);
      expect(JSON.stringify(cdn.requests[0]?.headers)).not.toContain(token);
      expect(cdn.requests[0]?.headers.authorization).toBeUndefined();
    } finally {
      await api.close();
    }
  });
});
