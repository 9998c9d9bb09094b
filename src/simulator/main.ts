// `npm run simulator`: the carrier simulator on its own, for pointing a deployed
// instance at it in a smoke test. Prints the variables that point the service here.
import { randomBytes } from "node:crypto";
import "dotenv/config";
import { FLAVORS } from "./flavors/index.js";
import { startSimulator, type Flavor, type Outcome } from "./index.js";

function fail(message: string): never {
  console.error(`simulator: ${message}`);
  process.exit(1);
}

/** SIMULATOR_OUTCOMES="+14155550101=busy,+14155550102=api-error:21211" */
function parseOutcomes(spec: string): Array<[string, Outcome]> {
  return spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [number, kind, arg] = entry.split(/[=:]/);
      if (!number || !/^\+[1-9]\d{6,14}$/.test(number)) fail(`SIMULATOR_OUTCOMES: "${entry}" does not start with an E.164 number`);
      switch (kind) {
        case "answer":
        case "voicemail":
        case "busy":
        case "no-answer":
        case "failed":
          return [number, { kind, ...(arg ? { ringMs: Number(arg) } : {}) }];
        case "api-timeout":
        case "api-malformed":
          return [number, { kind }];
        case "api-error": {
          const code = Number(arg ?? 21211);
          const status = code === 20003 ? 401 : code >= 20500 && code < 20600 ? 500 : 400;
          return [number, { kind, status, code, message: `simulated error ${code}` }];
        }
        default:
          return fail(`SIMULATOR_OUTCOMES: "${kind}" is not one of answer, voicemail, busy, no-answer, failed, api-error:<code>, api-timeout, api-malformed`);
      }
    });
}

const flavor = (process.env.SIMULATOR_FLAVOR ?? "twilio") as Flavor;
if (!Object.hasOwn(FLAVORS, flavor)) fail(`SIMULATOR_FLAVOR: expected ${Object.keys(FLAVORS).join(", ").replace(/, ([^,]+)$/, " or $1")}`);
const port = Number(process.env.SIMULATOR_PORT ?? 4010);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail("SIMULATOR_PORT: expected a port number (0-65535)");
const accountSid = process.env.SIMULATOR_ACCOUNT_SID ?? FLAVORS[flavor].newAccountId();
const authToken = process.env.SIMULATOR_AUTH_TOKEN ?? randomBytes(16).toString("hex");
const signingKey = process.env.SIMULATOR_SIGNING_KEY;

const simulator = await startSimulator({
  flavor,
  accountSid,
  authToken,
  signingKey,
  host: process.env.SIMULATOR_HOST ?? "127.0.0.1",
  port,
  logger: (line) => console.log(line),
});
for (const [number, outcome] of parseOutcomes(process.env.SIMULATOR_OUTCOMES ?? "")) simulator.setOutcome(number, outcome);

const env = simulator.serviceEnv("+15005550006");
console.log(`${flavor} simulator listening on ${simulator.url}; point the service at it with:`);
for (const [k, v] of Object.entries(env)) console.log(`${k}=${v}`);

const stop = () => void simulator.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
