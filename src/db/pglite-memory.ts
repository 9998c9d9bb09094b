import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { PGlite } from "@electric-sql/pglite";

/**
 * Keeps the embedded database's memory to what the service needs.
 *
 * - shared_buffers: PostgreSQL's default of 128 MB becomes resident in PGlite's
 *   WebAssembly heap at start. The service's tables are small and short-lived, and a
 *   page not cached here is read back from the operating system's file cache.
 * - A new database is created in a child process. Creating one (initdb) takes a second
 *   PostgreSQL instance and hundreds of MB that the garbage collector of an idle
 *   service does not give back; the child's exit does.
 *
 * PGlite's `initialMemory` cannot help: it only raises the heap above the 128 MB that
 * its WebAssembly module declares as a minimum.
 */
export const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];

// CommonJS, so the child needs neither tsx nor a module resolution of its own.
const CREATE = `
const [entry, dir, startParams] = process.argv.slice(1);
const { PGlite } = require(entry);
const pg = new PGlite(dir, { startParams: JSON.parse(startParams) });
pg.waitReady.then(() => pg.close()).catch((err) => {
  // Emscripten's file errors are plain objects ({ name: "ErrnoError", errno }).
  process.stderr.write(err instanceof Error ? err.message : JSON.stringify(err));
  process.exit(1);
});`;

/** Creates a PostgreSQL database in pgDir (absent or empty) and returns once it is closed. */
export async function createPgliteDatabase(pgDir: string): Promise<void> {
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const args = ["-e", CREATE, entry, pgDir, JSON.stringify(PGLITE_START_PARAMS)];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", resolve);
  });
  if (code !== 0) throw new Error(`could not create the database in ${pgDir}: ${stderr.trim() || `exit code ${code}`}`);
}
