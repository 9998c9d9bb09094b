#!/usr/bin/env node
// voice-otp: the operator's command line.
import "dotenv/config";
import { ConfigError } from "../config/index.js";
import { KeyError } from "../keys/api-keys.js";
import { CALL_HELP, callCommand } from "./call.js";
import { CHALLENGES_HELP, challengesCommand } from "./challenges.js";
import { EVENTS_HELP, eventsCommand } from "./events.js";
import { KEYS_HELP, keysCommand } from "./keys.js";
import { MIGRATE_HELP, migrateCommand } from "./migrate.js";
import { SERVICES_HELP, servicesCommand } from "./services.js";
import { STATS_HELP, statsCommand } from "./stats.js";
import { TOKENS_HELP, tokensCommand } from "./tokens.js";
import { OUTCOMES_HELP } from "../simulator/outcomes.js";
import { UsageError } from "./usage.js";

const HELP = `usage: voice-otp <command> [options]

commands:
  serve        run the service (configuration from the environment and .env)
  migrate      apply database migrations and exit
  keys         create, list or revoke API keys kept in the database
  services     create, list, show, update or delete services (apps), their settings and webhooks
  events       list or retry the events sent to webhooks; make a webhook secret
  tokens       rotate or list the keys verification tokens are signed with
  simulate     run the carrier simulator alone (SIMULATOR_* variables)
  call NUMBER  request a call through a running service and check the code you heard
  challenges   list or cancel a running service's challenges (through its API)
  stats        a running service's statistics by day or country (through its API)

voice-otp <command> --help shows a command's options.`;

const SERVE_HELP = `usage: voice-otp serve

Runs the service. Every setting comes from the environment (and a .env file):
see .env.example or the README's configuration table.`;

const SIMULATE_HELP = `usage: voice-otp simulate

Runs the carrier simulator alone and prints the variables that point a service at
it. SIMULATOR_FLAVOR (twilio|signalwire|telnyx), SIMULATOR_PORT (4010),
SIMULATOR_HOST, SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN, SIMULATOR_SIGNING_KEY
and SIMULATOR_OUTCOMES adjust it (\`npm start\` reads SIMULATOR_OUTCOMES too, for
its in-process simulator).

${OUTCOMES_HELP}`;

const HELPS: Record<string, string> = { serve: SERVE_HELP, migrate: MIGRATE_HELP, keys: KEYS_HELP, services: SERVICES_HELP, events: EVENTS_HELP, tokens: TOKENS_HELP, simulate: SIMULATE_HELP, call: CALL_HELP, challenges: CHALLENGES_HELP, stats: STATS_HELP };

async function main(argv: string[]): Promise<number | "running"> {
  const [command, ...args] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    console.log(HELP);
    return command ? 0 : 1;
  }
  const help = HELPS[command];
  if (!help) throw new UsageError(`unknown command "${command}"\n\n${HELP}`);
  if (args.includes("--help") || args.includes("-h")) {
    console.log(help);
    return 0;
  }
  switch (command) {
    case "serve":
      if (args.length) throw new UsageError(`serve takes no arguments; configure it through the environment\n\n${SERVE_HELP}`);
      await import("../server.js");
      return "running";
    case "simulate":
      if (args.length) throw new UsageError(`simulate takes no arguments\n\n${SIMULATE_HELP}`);
      await import("../simulator/main.js");
      return "running";
    case "migrate":
      await migrateCommand();
      return 0;
    case "keys":
      await keysCommand(args);
      return 0;
    case "services":
      await servicesCommand(args);
      return 0;
    case "events":
      await eventsCommand(args);
      return 0;
    case "tokens":
      await tokensCommand(args);
      return 0;
    case "challenges":
      return challengesCommand(args);
    case "stats":
      return statsCommand(args);
    default:
      return callCommand(args);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== "running") process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof UsageError) console.error(`voice-otp: ${err.message}`);
    else if (err instanceof ConfigError) console.error(`voice-otp: configuration error: ${err.message}`);
    else if (err instanceof KeyError) console.error(`voice-otp: ${err.message}`);
    else console.error(`voice-otp: ${(err as Error).message}`);
    process.exit(1);
  },
);
