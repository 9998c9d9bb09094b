import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { loadConfig } from "../src/config.js";
import { startService } from "../src/service.js";
import { serveParent } from "./processes.js";

/** The service under load, in its own process: configured from the environment as `npm start` is. */
const config = loadConfig(process.env);
const service = await startService({ config });

// CPU profiles of single scenarios (`npm run bench -- --profile`), taken in this process.
let session: Session | undefined;
serveParent(
  {
    /** Where the memory is, in MB: the V8 heap, buffers outside it, the whole process. */
    memory({ gc }: { gc?: boolean }) {
      // A full collection first tells live memory from garbage not yet collected.
      if (gc) {
        setFlagsFromString("--expose-gc");
        (runInNewContext("gc") as () => void)();
      }
      const m = process.memoryUsage();
      const mb = (n: number) => Math.round(n / 2 ** 20);
      return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) };
    },
    async profileStart() {
      session ??= new Session();
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.start");
    },
    async profileStop({ file }: { file: string }) {
      if (!session) throw new Error("no profile started");
      const { profile } = await session.post("Profiler.stop");
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      session = undefined;
    },
  },
  () => service.close(2000),
);
process.send!({ type: "ready", url: service.url, pid: process.pid });
