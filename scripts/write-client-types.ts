// `npm run client:types`: starts the service in this process (in-memory database, the
// simulator as carrier, no port of its own to choose), reads its /openapi.json and writes
// the client's types from it.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config/index.js";
import { createLogger } from "../src/logger.js";
import { startService } from "../src/service.js";
import { CLIENT_TYPES_FILE, clientTypes } from "./client-types.js";

const config = loadConfig({
  NODE_ENV: "test",
  PORT: "0",
  HOST: "127.0.0.1",
  DATA_DIR: "memory://",
  CARRIER: "simulator",
  SECRET_KEY: randomBytes(32).toString("hex"),
});
const service = await startService({ config, logger: createLogger({ level: "error", pretty: false }) });
try {
  const res = await fetch(`${service.url}/openapi.json`);
  if (!res.ok) throw new Error(`/openapi.json answered ${res.status}`);
  await writeFile(CLIENT_TYPES_FILE, await clientTypes((await res.json()) as Record<string, unknown>));
  console.log(`wrote ${fileURLToPath(CLIENT_TYPES_FILE)}`);
} finally {
  await service.close(1000, 0);
}
