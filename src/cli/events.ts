import { loadConfig } from "../config/index.js";
import type { Database } from "../db/open.js";
import { DEFAULT_SERVICE_ID } from "../db/schema.js";
import { listEvents, retryEvent, type StoredEvent } from "../events/admin.js";
import { newSecret } from "../events/signature.js";
import { describeWebhook } from "../events/webhook-settings.js";
import { listServices, loadService } from "../services/store.js";
import { openServiceDatabase } from "./database.js";
import { serviceOf } from "./keys.js";
import { parseOptions, type OptionSpec } from "./options.js";
import { UsageError } from "./usage.js";

export const EVENTS_HELP = `usage: voice-otp events list [--failed] [--service ID|NAME] [--limit N]
       voice-otp events retry ID
       voice-otp events secret

The events sent to the services' webhooks (\`voice-otp services webhook\` sets them).
list shows the newest first (50 unless --limit, at most 1000): id, service, type,
state (pending, delivered, failed), attempts, the last answer's status or error, and
when it was written; --failed only those given up on. retry sends a failed or pending
event again at once, with the same id (receivers deduplicate on it); a failed one gets
its whole schedule of attempts again. secret prints a new signing secret for
WEBHOOK_SECRET. With the embedded PGlite, stop the service first (one process per
DATA_DIR); on PostgreSQL it runs beside the service.`;

const SPECS: Record<string, OptionSpec> = { list: { failed: "flag", service: "value", limit: "value" }, retry: {}, secret: {} };

export async function eventsCommand(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  const spec = command === undefined ? undefined : SPECS[command];
  if (!spec) throw new UsageError(EVENTS_HELP);
  const { positional, options } = parseOptions(rest, spec, `events ${command}`);
  const wanted = command === "retry" ? 1 : 0;
  if (positional.length < wanted) throw new UsageError("events retry needs the ID of an event (msg_…, from `voice-otp events list`)");
  if (positional.length > wanted) throw new UsageError(`events ${command} takes no ${positional[wanted]}`);
  if (command === "secret") {
    // Printed alone on its line, so that WEBHOOK_SECRET=$(voice-otp events secret) works.
    console.log(newSecret());
    return;
  }
  const limit = options.limit ? Number(options.limit[0]) : 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError("--limit takes a whole number from 1 to 1000");

  const config = loadConfig(process.env);
  const database = await openServiceDatabase(config, { mustExist: true });
  try {
    if (command === "list") {
      const service = options.service ? await serviceOf(database, options.service[0]!) : undefined;
      const events = await listEvents(database, { state: options.failed ? "failed" : undefined, serviceId: service?.id, limit });
      if (events.length === 0) console.log(options.failed ? "no failed events" : "no events");
      const names = await serviceNames(database, events);
      for (const e of events) console.log([e.id, names.get(e.serviceId), e.type, e.state, `${e.attempts} attempts`, last(e), e.createdAt.toISOString()].join("\t"));
    } else {
      const id = positional[0]!;
      const now = new Date();
      const result = await retryEvent(database, id, now);
      if (result.kind === "not_found") throw new Error(`no event "${id}": \`voice-otp events list\` shows them`);
      if (result.kind === "delivered") throw new Error(`event ${id} was delivered at ${result.event.deliveredAt?.toISOString()}; nothing to retry`);
      if (result.kind === "in_flight") throw new Error(`event ${id} is being sent right now (until ${result.until.toISOString()}); try again after that if it fails`);
      console.log(`event ${id} (${result.event.type}) will be sent again at once by a running instance`);
      const webhook = await describeWebhook(database, result.event.serviceId, now);
      if (!webhook) console.log(`but its service has no webhook now, so it will fail again: \`voice-otp services webhook ${result.event.serviceId} --url URL\` sets one`);
      else if (webhook.disabledAt) console.log("but its service's webhook answered 410 Gone and is stopped, so it will fail again: set its --url again to resume it");
    }
  } finally {
    await database.close();
  }
}

/** What the last attempt got: an HTTP status, or an error (a timeout, a refused address). */
function last(e: StoredEvent): string {
  if (e.lastStatus !== null) return `HTTP ${e.lastStatus}`;
  return e.lastError ? e.lastError.replace(/\s+/g, " ") : "-";
}

/** Each event's service by name, a deleted one marked. */
async function serviceNames(database: Database, events: StoredEvent[]): Promise<Map<string, string>> {
  const names = new Map<string, string>([[DEFAULT_SERVICE_ID, DEFAULT_SERVICE_ID]]);
  for (const s of await listServices(database)) names.set(s.id, s.name);
  for (const id of new Set(events.map((e) => e.serviceId))) {
    if (names.has(id)) continue;
    const gone = await loadService(database, id);
    names.set(id, gone ? `${gone.name} (deleted)` : id);
  }
  return names;
}
