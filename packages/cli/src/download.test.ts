import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { candidateName, downloadJobAudio, extensionFor, safeFileStem } from "./download.ts";
import { createApiClient } from "./http-client.ts";
import { startScriptedServer, TEST_KEY, type Reply, type ScriptedServer } from "./test-helpers.ts";

const AUDIO = Buffer.from("fLaC fake flac bytes");
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let server: ScriptedServer;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "acebatch-cli-download-"));
});
afterEach(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function download(reply: Reply, expectedSha?: string, jobId = "job_abc") {
  server = await startScriptedServer(() => reply);
  const api = createApiClient({ baseUrl: server.url, apiKey: TEST_KEY, timeoutMs: 5_000 });
  return downloadJobAudio({ api, jobId, dir, sha256: expectedSha, timeoutMs: 5_000 });
}

describe("file names", () => {
  it("takes the extension from the Content-Type", () => {
    expect(extensionFor("audio/wav")).toBe(".wav");
    expect(extensionFor("audio/x-wav")).toBe(".wav");
    expect(extensionFor("audio/mpeg")).toBe(".mp3");
    expect(extensionFor("audio/flac")).toBe(".flac");
    expect(extensionFor("audio/ogg; codecs=opus")).toBe(".ogg");
    expect(extensionFor("audio/x-something")).toBe(".bin");
    expect(extensionFor("text/html")).toBeUndefined();
    expect(extensionFor(null)).toBeUndefined();
  });

  it("keeps ids to one safe path component", () => {
    expect(safeFileStem("job_01abc")).toBe("job_01abc");
    expect(safeFileStem("../../etc/passwd")).toBe("_.._etc_passwd");
    expect(safeFileStem("..")).toBe("audio");
    expect(safeFileStem("a/b\\c:d")).toBe("a_b_c_d");
    expect(candidateName("job_1", ".wav", 0)).toBe("job_1.wav");
    expect(candidateName("job_1", ".wav", 2)).toBe("job_1-2.wav");
  });
});

describe("downloadJobAudio", () => {
  it("saves <job_id>.<ext>, creating the directory, and leaves no temp file", async () => {
    dir = join(dir, "a", "b");
    const saved = await download({ status: 200, body: AUDIO, headers: { "content-type": "audio/flac" } }, sha(AUDIO));
    expect(saved).toEqual({ path: join(dir, "job_abc.flac"), bytes: AUDIO.length, reused: false });
    expect(await readFile(saved.path)).toEqual(AUDIO);
    expect(await readdir(dir)).toEqual(["job_abc.flac"]);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
  });

  it("never overwrites a different file: the new one gets the next -N suffix", async () => {
    await writeFile(join(dir, "job_abc.flac"), "someone else's file");
    await writeFile(join(dir, "job_abc-1.flac"), "another one");
    const saved = await download({ status: 200, body: AUDIO, headers: { "content-type": "audio/flac" } });
    expect(saved.path).toBe(join(dir, "job_abc-2.flac"));
    expect(await readFile(join(dir, "job_abc.flac"), "utf8")).toBe("someone else's file");
    expect(await readFile(join(dir, "job_abc-1.flac"), "utf8")).toBe("another one");
    expect((await readdir(dir)).sort()).toEqual(["job_abc-1.flac", "job_abc-2.flac", "job_abc.flac"]);
  });

  it("reuses an identical existing file instead of writing a copy", async () => {
    await writeFile(join(dir, "job_abc.flac"), AUDIO);
    const saved = await download({ status: 200, body: AUDIO, headers: { "content-type": "audio/flac" } });
    expect(saved).toMatchObject({ path: join(dir, "job_abc.flac"), reused: true });
    expect(await readdir(dir)).toEqual(["job_abc.flac"]);
  });

  it("fails (exit 1) and saves nothing when the bytes do not match the job's sha256", async () => {
    await expect(download({ status: 200, body: AUDIO, headers: { "content-type": "audio/flac" } }, "0".repeat(64))).rejects.toMatchObject({
      exitCode: 1,
      code: "checksum_mismatch",
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it("refuses an answer that is not audio (exit 1)", async () => {
    await expect(download({ status: 200, body: "<html>", headers: { "content-type": "text/html" } })).rejects.toMatchObject({ exitCode: 1, code: "not_audio" });
    expect(await readdir(dir)).toEqual([]);
  });

  it("maps a 409 (audio not ready) to 65 like any API rejection", async () => {
    await expect(download({ status: 409, json: { error: { code: "audio_not_ready", message: "no audio yet" } } })).rejects.toMatchObject({ exitCode: 65 });
  });
});
