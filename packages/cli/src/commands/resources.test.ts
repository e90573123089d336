import { afterEach, describe, expect, it } from "vitest";
import { resolveModelAlias } from "../models.ts";
import { makeJob, run, startScriptedServer, type Reply, type ScriptedRequest, type ScriptedServer } from "../test-helpers.ts";

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(handler: (req: ScriptedRequest) => Reply) {
  server = await startScriptedServer(handler);
  return server;
}

describe("model aliases", () => {
  it("resolve to the full ids; full ids pass through", () => {
    expect(resolveModelAlias("t2a")).toBe("acestep-ai/ace-step/text-to-audio");
    expect(resolveModelAlias("T2A-1.5")).toBe("acestep-ai/ace-step-1.5/text-to-audio");
    expect(resolveModelAlias("inpaint")).toBe("acestep-ai/ace-step/audio-inpaint");
    expect(resolveModelAlias("outpaint")).toBe("acestep-ai/ace-step/audio-outpaint");
    expect(resolveModelAlias("acestep-ai/ace-step/audio-outpaint")).toBe("acestep-ai/ace-step/audio-outpaint");
    expect(resolveModelAlias("t2a-2")).toBeUndefined();
  });
});

describe("jobs list", () => {
  it("passes the filters and, with --all, follows next_cursor through every page", async () => {
    const pages: Record<string, { data: unknown[]; next_cursor: string | null }> = {
      "": { data: [makeJob({ id: "job_1" })], next_cursor: "c2" },
      c2: { data: [makeJob({ id: "job_2" })], next_cursor: "c3" },
      c3: { data: [makeJob({ id: "job_3" })], next_cursor: null },
    };
    const s = await serve((req) => ({ status: 200, json: pages[new URL(req.url, "http://x").searchParams.get("cursor") ?? ""] }));
    const r = await run(["jobs", "list", "--all", "--status", "completed", "--batch", "bat_1", "--schedule", "sch_1", "--json"], { url: s.url });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).data.map((j: any) => j.id)).toEqual(["job_1", "job_2", "job_3"]);
    expect(JSON.parse(r.stdout).next_cursor).toBeNull();
    const first = Object.fromEntries(new URL(s.requests[0]!.url, "http://x").searchParams);
    expect(first).toEqual({ status: "completed", batch_id: "bat_1", schedule_id: "sch_1", limit: "200" });
    expect(s.requests).toHaveLength(3);
  });

  it("without --all shows one page as a table", async () => {
    const s = await serve(() => ({ status: 200, json: { data: [makeJob({ id: "job_1", status: "completed", cost_usd: 0.0012 })], next_cursor: "c2" } }));
    const r = await run(["jobs", "list", "--limit", "1"], { url: s.url });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ID\s+STATUS\s+MODEL\s+COST\s+CREATED\n/);
    expect(r.stdout).toContain("job_1");
    expect(r.stdout).toContain("$0.0012");
    expect(r.stdout).toContain("more: --all");
    expect(s.requests).toHaveLength(1);
  });
});

describe("schedule create", () => {
  it("sends the spec's body: interval or cron, full model id, rotation split on |", async () => {
    const s = await serve((req) => ({ status: 201, json: { id: "sch_1", ...JSON.parse(req.body), next_runs: [{ local: "2026-01-01T10:00:00+00:00", utc: "2026-01-01T10:00:00Z" }] } }));
    const r = await run(
      ["schedule", "create", "--name", "jingles", "--cron", "0 9 * * 1-5", "--timezone", "Europe/Paris", "--model", "t2a", "--input", '{"duration": 10}', "--seed-strategy", "increment", "--tags-rotation", "lo-fi | jazz|ambient", "--overlap", "skip"],
      { url: s.url },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(s.requests[0]!.body)).toEqual({
      name: "jingles",
      cron: "0 9 * * 1-5",
      timezone: "Europe/Paris",
      model: "acestep-ai/ace-step/text-to-audio",
      input: { duration: 10 },
      seed_strategy: "increment",
      tags_rotation: ["lo-fi", "jazz", "ambient"],
      overlap: "skip",
      enabled: true,
    });
    expect(r.stdout).toContain("next run");
  });

  it("validates the input against the model's schema (65) before sending", async () => {
    const s = await serve(() => ({ status: 201, json: {} }));
    const r = await run(["schedule", "create", "--name", "x", "--every", "60", "--model", "t2a", "--input", '{"tags": "x", "duration": 1}'], { url: s.url });
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("input.duration: duration must be at least 5 seconds");
    expect(s.requests).toHaveLength(0);
  });
});

describe("budget", () => {
  it("set keeps the period and timezone it was not told about (PUT replaces the whole budget)", async () => {
    const s = await serve((req) =>
      req.method === "GET"
        ? { status: 200, json: { limit_usd: 5, period: "month", timezone: "Europe/Berlin", spent_usd: 1, reserved_usd: 0, remaining_usd: 4, resets_at: null } }
        : { status: 200, json: { ...JSON.parse(req.body), spent_usd: 1, reserved_usd: 0, remaining_usd: 9 } },
    );
    const r = await run(["budget", "set", "--limit-usd", "10"], { url: s.url });
    expect(r.code).toBe(0);
    const put = s.requests.find((q) => q.method === "PUT")!;
    expect(JSON.parse(put.body)).toEqual({ limit_usd: 10, period: "month", timezone: "Europe/Berlin" });
    expect(r.stdout).toContain("$10.00 per month");
  });

  it("set --limit-usd none clears the limit", async () => {
    const s = await serve((req) => ({ status: 200, json: { ...JSON.parse(req.body || "{}"), spent_usd: 0 } }));
    const r = await run(["budget", "set", "--limit-usd", "none", "--period", "none", "--timezone", "UTC"], { url: s.url });
    expect(r.code).toBe(0);
    expect(s.requests).toHaveLength(1);
    expect(JSON.parse(s.requests[0]!.body)).toEqual({ limit_usd: null, period: "none", timezone: "UTC" });
  });
});
