import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Every suite starts real servers and databases; seconds, not milliseconds. The first
    // test of a file on PGlite also migrates its template (6 s alone, three or four times
    // that beside three other files on a 2-core machine).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // An embedded PGlite costs hundreds of MB; a few files at a time keeps memory in check.
    pool: "forks",
    maxWorkers: 4,
  },
});
