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
          // Real control planes on a loaded 2-core machine have timing races outside our code (a new namespace's
          // token, a helm process still returning); one retry with fresh names absorbs them, a real failure fails twice.
          retry: 1,
          pool: "forks",
          maxWorkers: 2,
        },
      },
    ],
  },
});
