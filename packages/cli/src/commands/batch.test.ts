import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { run, startScriptedServer, type ScriptedRequest, type ScriptedServer } from "../test-helpers.ts";
import { batchContentType } from "./batch.ts";

const CSV = "tags,duration,take\nlo-fi,5,1\njazz,6,2\n";
let server: ScriptedServer | undefined;
let dir: string;
let csvFile: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "acebatch-cli-batch-"));
  csvFile = join(dir, "rows.csv");
  await writeFile(csvFile, CSV);
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

const batch = (over: Record<string, unknown>) => ({
  id: "bat_1",
  status: "running",
  total: 2,
  accepted: 2,
  rejected: 0,
  errors: [],
  estimated_cost_usd: 0.0022,
  spent_usd: 0,
  counts: { queued: 2, in_progress: 0, completed: 0, failed: 0, cancelled: 0 },
  created_at: "2026-01-01T00:00:00Z",
  finished_at: null,
  ...over,
});

async function fakeBatches(states: Record<string, unknown>[], onCreate?: (req: ScriptedRequest) => { status: number; json: unknown } | undefined) {
  let polls = 0;
  server = await startScriptedServer((req) => {
    if (req.method === "POST" && req.url.startsWith("/v1/batches?") || req.url === "/v1/batches") {
      return onCreate?.(req) ?? { status: 201, json: batch({}) };
    }
    if (req.method === "GET" && req.url === "/v1/batches/bat_1") return { status: 200, json: states[Math.min(polls++, states.length - 1)] };
    if (req.url.startsWith("/v1/batches/bat_1/results")) {
      const jsonl = req.url.includes("format=jsonl");
      return { status: 200, body: jsonl ? '{"row":1}\n' : "row,job_id\n1,job_a\n", headers: { "content-type": jsonl ? "application/x-ndjson" : "text/csv" } };
    }
    return { status: 404, json: { error: { code: "route_not_found", message: "no" } } };
  });
  return server;
}

describe("batch create", () => {
  it("uploads the CSV with its content type and the query options (alias → full model id)", async () => {
    const s = await fakeBatches([]);
    const r = await run(["batch", "create", csvFile, "--model", "t2a-1.5", "--on-invalid", "skip", "--name", "drafts"], { url: s.url });
    expect(r.code).toBe(0);
    const req = s.requests[0]!;
    expect(req.headers["content-type"]).toBe("text/csv");
    expect(req.body).toBe(CSV);
    const query = new URL(req.url, "http://x").searchParams;
    expect(Object.fromEntries(query)).toEqual({ model: "acestep-ai/ace-step-1.5/text-to-audio", on_invalid: "skip", name: "drafts" });
    expect(r.stdout).toContain("bat_1");
  });

  it("--webhook-url passes the batch's webhook URL as a query parameter and shows it", async () => {
    const s = await fakeBatches([], () => ({ status: 201, json: batch({ webhook_url: "https://hooks.example/batches" }) }));
    const r = await run(["batch", "create", csvFile, "--webhook-url", "https://hooks.example/batches"], { url: s.url });
    expect(r.code).toBe(0);
    expect(new URL(s.requests[0]!.url, "http://x").searchParams.get("webhook_url")).toBe("https://hooks.example/batches");
    expect(r.stdout).toMatch(/webhook\s+https:\/\/hooks\.example\/batches/);
  });

  it("--wait shows a progress bar and exits 0 when every row completed", async () => {
    const s = await fakeBatches([
      batch({ counts: { queued: 1, in_progress: 1, completed: 0 } }),
      batch({ counts: { in_progress: 1, completed: 1 }, spent_usd: 0.001 }),
      batch({ status: "completed", counts: { completed: 2 }, spent_usd: 0.0022, finished_at: "2026-01-01T00:01:00Z" }),
    ]);
    const r = await run(["batch", "create", csvFile, "--wait"], { url: s.url });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("[....................] 0/2 0%");
    expect(r.stderr).toContain("[##########..........] 1/2 50%");
    expect(r.stderr).toContain("[####################] 2/2 100%");
    expect(r.stdout).toContain("bat_1  completed");
  });

  it("--wait exits 1 when rows failed, and says how to see and retry them", async () => {
    const s = await fakeBatches([batch({ status: "completed", counts: { completed: 1, failed: 1 }, finished_at: "2026-01-01T00:01:00Z" })]);
    const r = await run(["batch", "create", csvFile, "--wait"], { url: s.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("1 completed, 1 failed");
    expect(r.stderr).toContain("acebatch batch retry bat_1");
  });

  it("--dry-run prints the quote and the bad rows", async () => {
    const s = await fakeBatches([], () => ({
      status: 200,
      json: batch({ id: "bat_dry", status: "dry_run", total: 3, accepted: 2, rejected: 1, errors: [{ row: 3, column: "duration", message: "duration must be at most 240 seconds" }] }),
    }));
    const r = await run(["batch", "create", csvFile, "--dry-run", "--on-invalid", "skip"], { url: s.url });
    expect(r.code).toBe(0);
    expect(new URL(s.requests[0]!.url, "http://x").searchParams.get("dry_run")).toBe("true");
    expect(r.stdout).toContain("dry run: 3 rows, 2 accepted, 1 rejected; estimated $0.0022");
    expect(r.stdout).toContain("row 3 / duration: duration must be at most 240 seconds");
  });

  it("a rejected file (400 with row errors) exits 65 and lists the rows", async () => {
    const s = await fakeBatches([], () => ({
      status: 400,
      json: { error: { code: "invalid_rows", message: "1 invalid row", details: [{ path: "row 2 / tags", message: "tags must not be empty" }] }, errors: [{ row: 2, column: "tags", message: "tags must not be empty" }] },
    }));
    const r = await run(["batch", "create", csvFile], { url: s.url });
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("row 2 / tags: tags must not be empty");
  });

  it("--max-cost-usd refuses (65) a batch priced above the cap, enqueueing nothing", async () => {
    const s = await fakeBatches([], (req) => (req.url.includes("dry_run=true") ? { status: 200, json: batch({ estimated_cost_usd: 3.5 }) } : undefined));
    const r = await run(["batch", "create", csvFile, "--max-cost-usd", "1"], { url: s.url });
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("above --max-cost-usd $1.00");
    expect(s.requests).toHaveLength(1);
  });

  it.each(["0", "0.00"])("--max-cost-usd %s is refused (64) before any request: a cap must be more than 0", async (cap) => {
    const s = await fakeBatches([]);
    const r = await run(["batch", "create", csvFile, "--max-cost-usd", cap], { url: s.url });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(`--max-cost-usd must be a number > 0; got "${cap}"`);
    expect(s.requests).toHaveLength(0);
  });

  it("a missing file exits 1", async () => {
    const r = await run(["batch", "create", join(dir, "nope.csv")], { url: "http://127.0.0.1:9" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ENOENT");
  });

  it("detects NDJSON uploads", () => {
    expect(batchContentType("rows.ndjson", "")).toBe("application/x-ndjson");
    expect(batchContentType("rows.jsonl", "")).toBe("application/x-ndjson");
    expect(batchContentType("rows.txt", '{"model": "x"}\n')).toBe("application/x-ndjson");
    expect(batchContentType("rows.txt", "tags\nx\n")).toBe("text/csv");
  });
});

describe("batch results", () => {
  it("prints CSV to stdout, or writes JSONL to --output", async () => {
    const s = await fakeBatches([]);
    const csv = await run(["batch", "results", "bat_1"], { url: s.url });
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe("row,job_id\n1,job_a\n");
    const file = join(dir, "results.jsonl");
    const jsonl = await run(["batch", "results", "bat_1", "--format", "jsonl", "--output", file], { url: s.url });
    expect(jsonl.code).toBe(0);
    expect(await readFile(file, "utf8")).toBe('{"row":1}\n');
  });
});
