import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "scripts/**/*.test.ts", "test/unit/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "cluster",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // No retries: a test that fails once is a bug to find. scripts/test.ts reports any test that a
          // per-test `retry` option made pass on a later try.
          pool: "forks",
          maxWorkers: 2,
        },
      },
      {
        test: {
          // Every benchmark once at a tiny size, after the other tests and one at a time: each starts control planes
          // of its own, which would only add load to the cluster tests of a 2-core machine.
          name: "bench",
          include: ["test/bench/**/*.test.ts"],
          testTimeout: 300_000,
          pool: "forks",
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
