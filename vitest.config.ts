import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Every suite starts real servers and databases; seconds, not milliseconds.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // An embedded PGlite costs hundreds of MB; a few files at a time keeps memory in check.
    pool: "forks",
    maxWorkers: 4,
  },
});
