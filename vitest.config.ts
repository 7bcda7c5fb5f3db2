import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/openclaw/**", "node_modules/**"],
    // Real gateways take ~600 MB each: at most two test files run at once.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 120_000,
    reporters: ["default", ["json", { outputFile: ".test-results/vitest.json" }]],
  },
});
