import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadApiConfig } from "@acebatch/api";
import { ConfigError } from "@acebatch/config";
import { loadWorkerConfig } from "@acebatch/worker";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { RUNS } from "./fuzz-support.ts";

// The API's and the worker's configuration loaders on arbitrary environments: a start-up either
// gets its settings or a ConfigError naming each bad variable, and every variable it names is one
// README's Configuration section documents. Never another exception (which would crash start-up
// with a stack trace instead of exit code 64 and a message).
let cases = 0;
afterAll(() => console.log(`[fuzz] configuration: ${cases} cases tried`));

const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
const configSection = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Architecture"));
const documented = [...new Set([...configSection.matchAll(/`([A-Z][A-Z0-9_]{2,})`/g)].map((m) => m[1]!))];

const value = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom("", " ", "0", "-1", "1e309", "NaN", "true", "yes", "maybe", "65536", "3.5", "redis://", "http://", "s3", "local", "{acebatch}", "a:b", "x".repeat(5_000), "\u0000", "1,2,x", "[]", "{}"),
  fc.integer().map(String),
);

function load(loader: (env: Record<string, string>) => unknown, env: Record<string, string>): "loaded" | "refused" {
  cases++;
  try {
    loader(env);
    return "loaded";
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    expect(err.variables.length).toBeGreaterThan(0);
    for (const variable of err.variables) {
      expect(documented, `${variable} is named by a ConfigError but not documented in README's Configuration`).toContain(variable);
      expect(err.message).toContain(variable);
    }
    return "refused";
  }
}

describe("fuzzed configuration", () => {
  it("README documents the variables", () => {
    expect(documented.length).toBeGreaterThan(40);
  });

  it.each([
    ["API", loadApiConfig],
    ["worker", loadWorkerConfig],
  ] as const)("the %s's loader answers any environment with settings or a ConfigError naming documented variables", async (_name, loader) => {
    const seen = { loaded: 0, refused: 0 };
    await fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...documented), value, { maxKeys: 8 }), (env) => {
        seen[load(loader, env)]++;
      }),
      { numRuns: RUNS * 2 },
    );
    // Both answers are reached: the generator is neither all-valid nor all-broken.
    expect(seen.loaded).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });
});
