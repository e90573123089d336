import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

/** Start a service's main.ts with only `env` (plus PATH) and wait for it to exit. */
function run(main: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [resolve(root, main)], { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 }, (_err, _stdout, stderr) => {
      done({ code: child.exitCode, stderr });
    });
  });
}

describe("a bad environment variable stops every service with exit code 64 and names the variable", () => {
  it.each([
    ["services/api/src/main.ts", { PORT: "eighty" }, "PORT"],
    ["services/worker/src/main.ts", { PROVIDER_RPS: "fast" }, "PROVIDER_RPS"],
    ["services/simulator/src/main.ts", { SIMULATOR_PORT: "99999" }, "SIMULATOR_PORT"],
  ])("%s", async (main, env, variable) => {
    const { code, stderr } = await run(main, env);
    expect(code).toBe(64);
    expect(stderr).toContain(variable);
  });
});
