import { defineConfig } from "vitest/config";

// `pnpm test:chaos`: long fault-injection runs, kept out of `pnpm test`'s quick loop.
export default defineConfig({
  test: {
    include: ["test/chaos/**/*.test.ts"],
    globalSetup: ["packages/testing/src/vitest-global-setup.ts"],
    testTimeout: 15 * 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 1,
    reporters: ["default", ["json", { outputFile: "test-artifacts/vitest-chaos-report.json" }]],
  },
});
