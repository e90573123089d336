import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeJob, run, startScriptedServer, type Reply, type ScriptedRequest, type ScriptedServer } from "../test-helpers.ts";

const JOB_ID = "job_01jd8x0000000000000000000a";
const AUDIO = Buffer.from("RIFF....WAVEfmt fake audio bytes");
const SHA = (await import("node:crypto")).createHash("sha256").update(AUDIO).digest("hex");
const completed = makeJob({
  status: "completed",
  cost_usd: 0.001,
  output: { url: `http://elsewhere.invalid/v1/jobs/${JOB_ID}/audio`, content_type: "audio/wav", duration_seconds: 5, bytes: AUDIO.length, sha256: SHA, seed: 7 },
});

let server: ScriptedServer | undefined;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "acebatch-cli-submit-"));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A fake API: POST /v1/jobs answers queued; each GET of the job walks through `states`. */
async function fakeApi(states: Record<string, unknown>[], extra?: (req: ScriptedRequest) => Reply | undefined) {
  let polls = 0;
  server = await startScriptedServer((req) => {
    const custom = extra?.(req);
    if (custom) return custom;
    if (req.method === "POST" && req.url === "/v1/jobs") return { status: 202, json: makeJob() };
    if (req.method === "GET" && req.url === `/v1/jobs/${JOB_ID}`) {
      const state = states[Math.min(polls, states.length - 1)]!;
      polls++;
      return { status: 200, json: state };
    }
    if (req.method === "GET" && req.url === `/v1/jobs/${JOB_ID}/audio`) return { status: 200, body: AUDIO, headers: { "content-type": "audio/wav" } };
    return { status: 404, json: { error: { code: "route_not_found", message: `no route ${req.method} ${req.url}` } } };
  });
  return server;
}

describe("submit: client-side validation", () => {
  it("rejects bad input before sending anything, naming every bad field (65)", async () => {
    const s = await fakeApi([]);
    const r = await run(["submit", "t2a", "--input", '{"duration": 999, "seed": "x", "colour": "red"}'], { url: s.url });
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("input.tags");
    expect(r.stderr).toContain("input.duration: duration must be at most 240 seconds");
    expect(r.stderr).toContain("input.seed");
    expect(r.stderr).toContain('input.colour: unknown field "colour"');
    expect(s.requests).toHaveLength(0);
  });

  it("treats unparsable or non-object --input as bad input JSON (65), like runcomfy run", async () => {
    const s = await fakeApi([]);
    for (const input of ['{"tags": ', "[1, 2]", '"tags"']) {
      const r = await run(["submit", "t2a", "--input", input], { url: s.url });
      expect(r.code).toBe(65);
      expect(r.stderr).toMatch(/invalid input JSON|must be a JSON object/);
    }
    expect(s.requests).toHaveLength(0);
  });

  it("rejects an unknown model (65) and lists the aliases", async () => {
    const s = await fakeApi([]);
    const r = await run(["submit", "musicgen", "--input", '{"tags": "x"}'], { url: s.url });
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("t2a = acestep-ai/ace-step/text-to-audio");
    expect(s.requests).toHaveLength(0);
  });

  it("checks inpaint/outpaint fields too", async () => {
    const s = await fakeApi([]);
    const r = await run(["submit", "outpaint", "--input", '{"audio": "http://not-https.example/a.mp3", "tags": "x", "extend_after_duration": 0}'], { url: s.url });
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("input.audio");
    expect(r.stderr).toContain("input.extend_after_duration");
  });
});

describe("submit", () => {
  it("sends the full model id for an alias, the input, metadata and the Idempotency-Key, and prints the job", async () => {
    const s = await fakeApi([]);
    const r = await run(["submit", "t2a", "--input", '{"tags": "lo-fi", "duration": 5}', "--metadata", '{"take": 1}', "--idempotency-key", "k-1"], { url: s.url });
    expect(r.code).toBe(0);
    const req = s.requests[0]!;
    expect(req.headers["idempotency-key"]).toBe("k-1");
    expect(JSON.parse(req.body)).toEqual({ model: "acestep-ai/ace-step/text-to-audio", input: { tags: "lo-fi", duration: 5 }, metadata: { take: 1 } });
    expect(r.stdout).toContain(JOB_ID);
    expect(r.stdout).toContain("acestep-ai/ace-step/text-to-audio");
  });

  it("reads --input from a file (@file.json) and from stdin (@-)", async () => {
    const s = await fakeApi([]);
    const file = join(dir, "input.json");
    await writeFile(file, '{"tags": "from a file"}');
    expect((await run(["submit", "t2a-1.5", "--input", `@${file}`], { url: s.url })).code).toBe(0);
    expect(JSON.parse(s.requests[0]!.body)).toMatchObject({ model: "acestep-ai/ace-step-1.5/text-to-audio", input: { tags: "from a file" } });
    expect((await run(["submit", "t2a", "--input", "@-"], { url: s.url, stdin: () => Readable.from(['{"tags": "piped"}']) })).code).toBe(0);
    expect(JSON.parse(s.requests[1]!.body).input).toEqual({ tags: "piped" });
    const missing = await run(["submit", "t2a", "--input", `@${join(dir, "nope.json")}`], { url: s.url });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("ENOENT");
  });

  it("--json prints exactly the API's JSON", async () => {
    const s = await fakeApi([]);
    const r = await run(["submit", "t2a", "--input", '{"tags": "x"}', "--json"], { url: s.url });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(makeJob());
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toBe("");
  });
});

describe("submit --wait", () => {
  const inProgress = makeJob({ status: "in_progress", provider: { name: "runcomfy", request_id: "r1", status: "in_queue", queue_position: 3 } });

  it("polls to completion, prints one line per status change off a terminal, and saves <job_id>.wav", async () => {
    const s = await fakeApi([inProgress, inProgress, inProgress, completed]);
    const out = join(dir, "out", "nested");
    const r = await run(["submit", "t2a", "--input", '{"tags": "x"}', "--wait", "--output-dir", out], { url: s.url });
    expect(r.code).toBe(0);
    const statusLines = r.stderr.split("\n").filter((l) => l.startsWith(JOB_ID));
    expect(statusLines).toHaveLength(3);
    expect(statusLines[0]).toContain("queued");
    expect(statusLines[1]).toContain("in_progress  provider in_queue  queue position 3");
    expect(statusLines[2]).toContain("completed");
    expect(r.stdout).toContain(`saved ${join(out, `${JOB_ID}.wav`)}`);
    expect(await readFile(join(out, `${JOB_ID}.wav`))).toEqual(AUDIO);
    expect(await readdir(out)).toEqual([`${JOB_ID}.wav`]);
    // The audio is fetched from the configured API, never from output.url's host.
    expect(s.requests.filter((q) => q.url.endsWith("/audio"))).toHaveLength(1);
  });

  it("--output-dir alone implies --wait", async () => {
    const s = await fakeApi([completed]);
    const r = await run(["submit", "t2a", "--input", '{"tags": "x"}', "--output-dir", dir], { url: s.url });
    expect(r.code).toBe(0);
    expect(await readFile(join(dir, `${JOB_ID}.wav`))).toEqual(AUDIO);
  });

  it("draws a single self-overwriting line on a terminal", async () => {
    const s = await fakeApi([inProgress, completed]);
    const r = await run(["submit", "t2a", "--input", '{"tags": "x"}', "--wait"], { url: s.url, isTTY: true, columns: 80 });
    expect(r.code).toBe(0);
    const progress = r.stderr.slice(r.stderr.indexOf("\r"));
    expect(progress.split("\r\x1b[2K").length).toBeGreaterThanOrEqual(3);
    expect(progress.trimEnd().split("\n")).toHaveLength(1);
  });

  it("--json --wait prints only the final job JSON", async () => {
    const s = await fakeApi([inProgress, completed]);
    const r = await run(["submit", "t2a", "--input", '{"tags": "x"}', "--wait", "--json"], { url: s.url });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(completed);
    expect(r.stderr).toBe("");
  });

  it("exits 1 when the job failed, with its error code, exit class and message", async () => {
    const failed = makeJob({ status: "failed", error: { code: "provider_rejected_input", exit_class: 65, retryable: false, message: "tags too exotic" } });
    const s = await fakeApi([inProgress, failed]);
    const r = await run(["submit", "t2a", "--input", '{"tags": "x"}', "--wait", "--output-dir", dir], { url: s.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("provider_rejected_input (exit class 65): tags too exotic");
    expect(await readdir(dir)).toEqual([]);
  });

  it("exits 1 when the job was cancelled", async () => {
    const s = await fakeApi([makeJob({ status: "cancelled", error: { code: "cancelled", exit_class: null, retryable: false, message: "cancelled by the user" } })]);
    const r = await run(["submit", "t2a", "--input", '{"tags": "x"}', "--wait", "--json"], { url: s.url });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).status).toBe("cancelled");
  });

  it("keeps polling through a 429 and a 503 (the job keeps running server-side)", async () => {
    let n = 0;
    const s = await fakeApi([completed], (req) => {
      if (req.method === "GET" && req.url === `/v1/jobs/${JOB_ID}` && n++ < 2) {
        return n === 1 ? { status: 429, json: { error: { code: "rate_limited", message: "slow" } }, headers: { "retry-after": "0" } } : { status: 503, json: { error: { code: "redis_unavailable", message: "down" } } };
      }
      return undefined;
    });
    const r = await run(["submit", "t2a", "--input", '{"tags": "x"}', "--wait"], { url: s.url });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("still waiting");
  });

  it("stops waiting on Ctrl-C and says how to follow the job (exit 1)", async () => {
    const controller = new AbortController();
    const s = await fakeApi([inProgress], (req) => {
      if (req.method === "GET") setTimeout(() => controller.abort(), 0);
      return undefined;
    });
    const r = await run(["submit", "t2a", "--input", '{"tags": "x"}', "--wait"], { url: s.url, signal: controller.signal });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`acebatch jobs get ${JOB_ID}`);
  });
});
