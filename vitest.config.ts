import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The agent never changes what it inspects: checked after every test (test/helpers/openclaw-host-guard.ts).
    setupFiles: ["test/setup/host-guard.ts"],
    exclude: ["test/openclaw/**", "node_modules/**"],
    // Real gateways take ~600 MB each: at most two test files run at once.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 120_000,
    reporters: ["default", ["json", { outputFile: ".test-results/vitest.json" }]],
  },
});
