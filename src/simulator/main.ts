// `npm run simulator`: the carrier simulator on its own, for pointing a deployed
// instance at it in a smoke test. Prints the variables that point the service here.
import { randomBytes } from "node:crypto";
import "dotenv/config";
import { FLAVORS } from "./flavors/index.js";
import { startSimulator, type Flavor } from "./index.js";
import { parseOutcomes } from "./outcomes.js";

function fail(message: string): never {
  console.error(`simulator: ${message}`);
  process.exit(1);
}

const flavor = (process.env.SIMULATOR_FLAVOR ?? "twilio") as Flavor;
if (!Object.hasOwn(FLAVORS, flavor)) fail(`SIMULATOR_FLAVOR: expected ${Object.keys(FLAVORS).join(", ").replace(/, ([^,]+)$/, " or $1")}`);
const port = Number(process.env.SIMULATOR_PORT ?? 4010);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail("SIMULATOR_PORT: expected a port number (0-65535)");
const accountSid = process.env.SIMULATOR_ACCOUNT_SID ?? FLAVORS[flavor].newAccountId();
const authToken = process.env.SIMULATOR_AUTH_TOKEN ?? randomBytes(16).toString("hex");
const signingKey = process.env.SIMULATOR_SIGNING_KEY;

let outcomes: ReturnType<typeof parseOutcomes> = [];
try {
  outcomes = parseOutcomes(process.env.SIMULATOR_OUTCOMES ?? "");
} catch (err) {
  fail(`SIMULATOR_OUTCOMES: ${(err as Error).message}`);
}

const simulator = await startSimulator({
  flavor,
  accountSid,
  authToken,
  signingKey,
  host: process.env.SIMULATOR_HOST ?? "127.0.0.1",
  port,
  outcomes,
  logger: (line) => console.log(line),
});

const env = simulator.serviceEnv("+15005550006");
console.log(`${flavor} simulator listening on ${simulator.url}; point the service at it with:`);
for (const [k, v] of Object.entries(env)) console.log(`${k}=${v}`);

const stop = () => void simulator.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
