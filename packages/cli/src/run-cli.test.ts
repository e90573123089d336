import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { run, startScriptedServer, type ScriptedServer } from "./test-helpers.ts";

let server: ScriptedServer;
beforeEach(async () => {
  server = await startScriptedServer(() => ({ status: 200, json: { data: [], next_cursor: null } }));
});
afterEach(async () => {
  await server.close();
});

describe("command-line parsing", () => {
  it("prints the command list for --help and exits 0", async () => {
    const r = await run(["--help"], { url: server.url });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("submit <model>");
    expect(r.stdout).toContain("batch create <file>");
    expect(r.stdout).toContain("77  not permitted");
  });

  it("exits 64 with the help on stderr when no command is given", async () => {
    const r = await run([], { url: server.url });
    expect(r.code).toBe(64);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Commands:");
    expect(r.stderr).toContain("missing command");
  });

  it("has --help on every level", async () => {
    const group = await run(["jobs", "--help"], { url: server.url });
    expect(group.code).toBe(0);
    expect(group.stdout).toContain("jobs list");
    const leaf = await run(["jobs", "list", "--help"], { url: server.url });
    expect(leaf.code).toBe(0);
    expect(leaf.stdout).toContain("--status S");
    expect(leaf.stdout).toContain("--all");
    const viaHelp = await run(["help", "batch", "create"], { url: server.url });
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toContain("--dry-run");
    // --help wins over an otherwise bad command line, and sends nothing.
    const withBadFlag = await run(["submit", "--bogus", "-h"], { url: server.url });
    expect(withBadFlag.code).toBe(0);
    expect(withBadFlag.stdout).toContain("--output-dir DIR");
    expect(server.requests).toHaveLength(0);
  });

  it.each([
    [["frobnicate"], "unknown command"],
    [["jobs"], "missing subcommand"],
    [["jobs", "frob", "x"], "unknown subcommand"],
    [["jobs", "list", "--bogus"], "unknown option"],
    [["jobs", "get"], "missing <id>"],
    [["jobs", "get", "a", "b"], 'unexpected argument "b"'],
    [["submit", "t2a"], "missing --input"],
    [["jobs", "list", "--status", "sleeping"], "--status must be one of"],
    [["jobs", "list", "--limit", "0"], "--limit must be a whole number"],
    [["jobs", "list", "--limit", "ten"], "--limit must be a whole number"],
    [["jobs", "list", "--url", "ftp://x"], "must be an http:// or https:// URL"],
    [["jobs", "list", "--timeout", "0"], "--timeout must be a number"],
    [["jobs", "list", "--timeout=-1"], "--timeout must be a number"],
    [["batch", "results", "bat_x", "--format", "xml"], "--format must be one of csv, jsonl"],
    [["schedule", "create", "--name", "n", "--model", "t2a", "--input", "{}"], "exactly one of --cron"],
    [["schedule", "create", "--name", "n", "--cron", "* * * * *", "--every", "60", "--model", "t2a", "--input", "{}"], "exactly one of --cron"],
    [["budget", "set"], "missing --limit-usd"],
    [["budget", "set", "--limit-usd", "lots"], "--limit-usd must be a number"],
    [["jobs", "list", "--json", "--api-key"], "argument missing"],
  ])("exits 64 for %j without calling the API", async (argv, message) => {
    const r = await run(argv, { url: server.url });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(message);
    expect(server.requests).toHaveLength(0);
  });

  it("accepts global flags before the command", async () => {
    const r = await run(["--json", "--url", server.url, "jobs", "list"], { url: "http://127.0.0.1:9" });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ data: [], next_cursor: null });
  });

  it("lets --url and --api-key override the environment, and tolerates a /v1 suffix", async () => {
    const r = await run(["jobs", "list", "--url", `${server.url}/v1/`, "--api-key", "flag-key-abcdef"], { url: "http://127.0.0.1:9" });
    expect(r.code).toBe(0);
    expect(server.requests[0]!.url).toBe("/v1/jobs");
    expect(server.requests[0]!.headers.authorization).toBe("Bearer flag-key-abcdef");
  });

  it("prints the version", async () => {
    const r = await run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
