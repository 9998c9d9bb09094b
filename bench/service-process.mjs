// The service under load, in its own process, from a build (the folder given as the
// first argument: bench/tmp/dist, or the dist/ of a revision run with --against) and
// without tsx: what `node dist/server.js` runs in the Docker image, configured from
// the environment. Plain JavaScript so that no loader adds to its memory.
import { existsSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { setFlagsFromString } from "node:v8";
import { pathToFileURL } from "node:url";
import { runInNewContext } from "node:vm";
import { serveParent } from "./serve-parent.mjs";

const dist = process.argv[2];
if (!dist) throw new Error("usage: service-process.mjs <dist folder>");
// The configuration module moved into a folder; an --against revision may predate that.
const configModule = existsSync(`${dist}/config/index.js`) ? `${dist}/config/index.js` : `${dist}/config.js`;
const { loadConfig } = await import(pathToFileURL(configModule).href);
const { startService } = await import(pathToFileURL(`${dist}/service.js`).href);
// The soak (bench/soak.ts) sweeps often, with a retention of minutes, which no variable of
// the service may set: {"intervalMs": …, "retentionHours": …}.
const housekeeping = process.env.BENCH_HOUSEKEEPING ? JSON.parse(process.env.BENCH_HOUSEKEEPING) : undefined;
const service = await startService({ config: loadConfig(process.env), housekeeping });

// CPU profiles of single scenarios (`npm run bench -- --profile`), taken in this process.
let session;
serveParent(
  {
    /** Where the memory is, in MB: the V8 heap, buffers outside it, the whole process. */
    memory({ gc }) {
      // A full collection first tells live memory from garbage not yet collected.
      if (gc) {
        setFlagsFromString("--expose-gc");
        runInNewContext("gc")();
      }
      const m = process.memoryUsage();
      const mb = (n) => Math.round(n / 2 ** 20);
      return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) };
    },
    async profileStart() {
      session ??= new Session();
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.start");
    },
    async profileStop({ file }) {
      if (!session) throw new Error("no profile started");
      const { profile } = await session.post("Profiler.stop");
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      session = undefined;
    },
  },
  () => service.close(2000),
);
process.send({ type: "ready", url: service.url, pid: process.pid });
