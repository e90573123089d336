// The `acebatch` command-line client against a real stack (simulator + API + a worker process),
// run as a real process so exit codes, stdout and stderr are exactly what a script would see.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "@acebatch/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, startStack, type Stack } from "../support/stack.ts";
import { wavDurationSeconds } from "../support/wav.ts";

const CLI_MAIN = resolve(import.meta.dirname, "../../packages/cli/src/main.ts");

let stack: Stack;
let dir: string;
beforeAll(async () => {
  stack = await startStack({ label: "cli" });
  await stack.startWorker();
  dir = await mkdtemp(join(tmpdir(), "acebatch-cli-e2e-"));
});
afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `node packages/cli/src/main.ts ...args` with only the environment given: nothing of the
 * developer's (their ACEBATCH_API_KEY or ACEBATCH_URL) may leak in.
 */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const fullEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ACEBATCH_URL: stack.baseUrl, ACEBATCH_API_KEY: ADMIN_KEY, ...env })) {
    if (v !== undefined) fullEnv[k] = v;
  }
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [CLI_MAIN, ...args], { env: fullEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

describe("acebatch submit against the real stack", () => {
  it("submit --wait --output-dir exits 0 and writes the WAV as <job_id>.wav", async () => {
    const out = join(dir, "drafts");
    const r = await cli(["submit", "t2a", "--input", '{"tags": "lo-fi, mellow", "duration": 6, "seed": 3}', "--wait", "--output-dir", out, "--json"]);
    expect(r.stderr).toContain("saved");
    expect(r.code).toBe(0);
    const job = JSON.parse(r.stdout);
    expect(job).toMatchObject({ status: "completed", model: "acestep-ai/ace-step/text-to-audio", output: { content_type: "audio/wav" } });
    expect(await readdir(out)).toEqual([`${job.id}.wav`]);
    const bytes = await readFile(join(out, `${job.id}.wav`));
    expect(wavDurationSeconds(new Uint8Array(bytes))).toBe(6);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(job.output.sha256);
  });

  it("human mode prints one line per status change, the job and the saved path", async () => {
    const out = join(dir, "human");
    const r = await cli(["submit", "acestep-ai/ace-step-1.5/text-to-audio", "--input", '{"tags": "j-pop", "duration": 5}', "--output-dir", out]);
    expect(r.code).toBe(0);
    const id = /^(job_\S+)\s+completed/m.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    expect(r.stdout).toContain(`saved ${join(out, `${id}.wav`)}`);
    expect(r.stderr).toMatch(new RegExp(`^${id}\\s+completed`, "m"));
    // Downloading again never overwrites: the identical file is reused.
    const again = await cli(["jobs", "audio", id!, "--output-dir", out]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already there, identical");
    expect(await readdir(out)).toEqual([`${id}.wav`]);
  });

  it("bad input exits 65 and names each bad field", async () => {
    const r = await cli(["submit", "t2a", "--input", '{"duration": 600}']);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("input.tags");
    expect(r.stderr).toContain("input.duration");
  });

  it("a submission the API rejects (same Idempotency-Key, different body: 409) exits 65", async () => {
    const first = await cli(["submit", "t2a", "--input", '{"tags": "a", "duration": 5}', "--idempotency-key", "cli-e2e-key"]);
    expect(first.code).toBe(0);
    const replay = await cli(["submit", "t2a", "--input", '{"tags": "a", "duration": 5}', "--idempotency-key", "cli-e2e-key", "--json"]);
    expect(replay.code).toBe(0);
    const conflict = await cli(["submit", "t2a", "--input", '{"tags": "b", "duration": 5}', "--idempotency-key", "cli-e2e-key", "--json"]);
    expect(conflict.code).toBe(65);
    expect(JSON.parse(conflict.stderr).error.code).toEqual(expect.any(String));
  });

  it("no key exits 77; a wrong key exits 77 and is never printed", async () => {
    const none = await cli(["submit", "t2a", "--input", '{"tags": "x"}'], { ACEBATCH_API_KEY: undefined });
    expect(none.code).toBe(77);
    const wrong = await cli(["submit", "t2a", "--input", '{"tags": "x"}', "--verbose"], { ACEBATCH_API_KEY: "definitely-not-the-key" });
    expect(wrong.code).toBe(77);
    expect(wrong.stdout + wrong.stderr).not.toContain("definitely-not-the-key");
  });

  it("a stopped API (nothing listening) exits 69", async () => {
    const r = await cli(["submit", "t2a", "--input", '{"tags": "x"}'], { ACEBATCH_URL: `http://127.0.0.1:${await freePort()}` });
    expect(r.code).toBe(69);
    expect(r.stderr).toContain("connection refused");
  });

  it("a job that fails at the provider exits 1 under --wait, with its error code and exit class", async () => {
    await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ fail: { rate_failed: 1 } }) });
    try {
      const r = await cli(["submit", "t2a", "--input", '{"tags": "doomed", "duration": 5}', "--wait"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/ended failed: \S+ \(exit class 1\): /);
    } finally {
      await stack.sim("/__sim/config", { method: "PUT", body: JSON.stringify({ fail: { rate_failed: 0 } }) });
    }
  });
});

describe("acebatch jobs against the real stack", () => {
  it("gets, lists and cancels", async () => {
    const submitted = JSON.parse((await cli(["submit", "t2a", "--input", '{"tags": "list me", "duration": 5}', "--json", "--wait"])).stdout);
    const got = await cli(["jobs", "get", submitted.id, "--json"]);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout).id).toBe(submitted.id);
    const listed = await cli(["jobs", "list", "--status", "completed", "--all", "--limit", "2", "--json"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).data.map((j: any) => j.id)).toContain(submitted.id);
    const cancelDone = await cli(["jobs", "cancel", submitted.id]);
    expect(cancelDone.code).toBe(65);
    const unknown = await cli(["jobs", "get", "job_doesnotexist"]);
    expect(unknown.code).toBe(65);
    expect(unknown.stderr).toContain("HTTP 404");
  });
});

describe("acebatch batch against the real stack", () => {
  it("batch create --wait shows progress and exits 0", async (ctx) => {
    const probe = await stack.api("POST", "/v1/batches?dry_run=true", undefined, { "content-type": "text/csv" });
    if (probe.status === 404 && probe.body?.error?.code === "route_not_found") ctx.skip("the API has no /v1/batches yet");
    const file = join(dir, "rows.csv");
    await writeFile(file, "tags,duration,take\nlo-fi,5,1\njazz,5,2\nambient,5,3\n");
    const r = await cli(["batch", "create", file, "--model", "t2a", "--wait"]);
    expect(r.stderr).toMatch(/\[#{20}\] 3\/3 100%/);
    expect(r.code).toBe(0);
  });
});
