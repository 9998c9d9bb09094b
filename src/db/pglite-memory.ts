import { PGlite } from "@electric-sql/pglite";

/**
 * Keeps the embedded database's memory to what the service needs.
 *
 * shared_buffers: PostgreSQL's default of 128 MB becomes resident in PGlite's
 * WebAssembly heap at start. The service's tables are small and short-lived, and a
 * page not cached here is read back from the operating system's file cache.
 *
 * PGlite's `initialMemory` cannot help: it only raises the heap above the 128 MB that
 * its WebAssembly module declares as a minimum.
 */
export const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];
