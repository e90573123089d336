import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/**/src/**/*.test.ts", "services/**/src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "test/bench/**", "test/chaos/**", ".tools/**"],
    // One Redis for the run (REDIS_URL, a redis:7 container, or a spawned redis-server); test files
    // read its URL with inject("redisUrl") and isolate themselves with uniquePrefix().
    globalSetup: ["packages/testing/src/vitest-global-setup.ts"],
    // Integration tests start Redis, API and worker processes.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // Child processes, not threads: tests spawn services and send signals, and a crashed native
    // handle must not take the runner down. Two workers on this 2-core machine.
    pool: "forks",
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", ["json", { outputFile: "test-artifacts/vitest-report.json" }]],
    maxWorkers: 2,
  },
});
