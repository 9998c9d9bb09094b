import { loadConfig, type Config } from "../config/index.js";
import { DEFAULT_SERVICE_ID } from "../db/schema.js";
import { EVENT_TYPES, isEventType, type EventType } from "../events/outbox.js";
import { checkTargetUrl } from "../events/target.js";
import { configureWebhook, deleteWebhook, describeWebhook, rotateWebhook, type WebhookView } from "../events/webhook-settings.js";
import { deriveCodeKeys } from "../otp/codes.js";
import { loadOrCreateSecretKey } from "../secret-key.js";
import { openServiceDatabase } from "./database.js";
import { serviceOf } from "./keys.js";
import { parseOptions } from "./options.js";
import { UsageError } from "./usage.js";

export const SERVICE_WEBHOOK_HELP = `usage: voice-otp services webhook ID|NAME --url URL [--events TYPE,TYPE...]
       voice-otp services webhook ID|NAME --rotate
       voice-otp services webhook ID|NAME --remove
       voice-otp services webhook ID|NAME

Where a service's events go (signed webhooks, Standard Webhooks). --url sets the URL
and the types (--events; left out: every type), keeping the secret; a first webhook
gets a new secret, printed this once. --rotate prints a new secret; the previous one
keeps signing beside it for 24 hours, time to switch the receiver. --remove stops the
events. Alone, it shows the webhook. The default service's follows WEBHOOK_URL,
WEBHOOK_SECRET and WEBHOOK_EVENTS when WEBHOOK_URL is set.

event types: ${EVENT_TYPES.join(", ")}`;

export async function serviceWebhookCommand(args: string[]): Promise<void> {
  const { positional, options } = parseOptions(args, { url: "value", events: "value", rotate: "flag", remove: "flag" }, "services webhook");
  if (positional.length === 0) throw new UsageError(`services webhook needs the ID or NAME of a service\n\n${SERVICE_WEBHOOK_HELP}`);
  if (positional.length > 1) throw new UsageError(`services webhook takes no ${positional[1]}`);
  const actions = (["url", "rotate", "remove"] as const).filter((o) => options[o]);
  if (actions.length > 1) throw new UsageError(`give one of --url, --rotate and --remove, not ${actions.map((a) => `--${a}`).join(" and ")}`);
  if (options.events && !options.url) throw new UsageError("--events goes with --url: give the URL the events go to as well");
  const eventTypes = options.events ? eventList(options.events[0]!) : null;

  const config = loadConfig(process.env);
  const url = options.url?.[0];
  if (url !== undefined) {
    const refused = checkTargetUrl(url, config.webhookTargets);
    if (refused) throw new UsageError(`--url ${refused}`);
  }
  const target = positional[0]!;
  if (target === DEFAULT_SERVICE_ID && config.webhook && actions.length) {
    throw new Error("the default service's webhook is set by WEBHOOK_URL, WEBHOOK_SECRET and WEBHOOK_EVENTS: change them and restart the service (a new WEBHOOK_SECRET keeps the previous one signing for 24 hours)");
  }
  const database = await openServiceDatabase(config, { mustExist: true });
  try {
    const service = await serviceOf(database, target);
    const named = `service "${service.name}"${service.id === service.name ? "" : ` (${service.id})`}`;
    const now = new Date();
    if (url !== undefined) {
      const set = await configureWebhook(database, await codeKeys(config), service.id, { url, eventTypes }, now);
      console.log(`webhook of ${named}: ${describe(set.webhook)}`);
      if (set.secret) printSecret(set.secret);
    } else if (options.rotate) {
      const rotated = await rotateWebhook(database, await codeKeys(config), service.id, now);
      if (!rotated) throw new Error(`${named} has no webhook: --url URL sets one`);
      printSecret(rotated.secret);
      console.log(`the previous secret keeps signing beside it until ${rotated.webhook.previousValidUntil!.toISOString()}: switch the receiver to the new one before then`);
    } else if (options.remove) {
      const removed = await deleteWebhook(database, service.id, now);
      if (!removed) throw new Error(`${named} has no webhook`);
      console.log(`removed the webhook of ${named} (${removed.url}): no more events are written for it`);
    } else {
      const found = await describeWebhook(database, service.id, now);
      console.log(found ? `webhook of ${named}: ${describe(found)}` : `${named} has no webhook: --url URL sets one`);
    }
  } finally {
    await database.close();
  }
}

/** The types --events names, each checked. */
function eventList(text: string): EventType[] {
  const types = text.split(",").map((t) => t.trim()).filter(Boolean);
  const bad = types.find((t) => !isEventType(t));
  if (bad !== undefined) throw new UsageError(`--events: "${bad}" is not an event type; use ${EVENT_TYPES.join(", ")}`);
  if (types.length === 0) throw new UsageError("--events needs at least one type; leave it out for every type");
  return [...new Set(types as EventType[])];
}

/** The keys secrets are sealed with: SECRET_KEY, or in development the one the service keeps in DATA_DIR. */
async function codeKeys(config: Readonly<Config>) {
  return deriveCodeKeys(config.secretKey ?? (await loadOrCreateSecretKey(config.dataDir)).key);
}

function describe(w: WebhookView): string {
  const parts = [w.url, `events: ${w.eventTypes?.join(",") ?? "all"}`];
  if (w.disabledAt) parts.push(`stopped by a 410 Gone at ${w.disabledAt.toISOString()} (--url again resumes it)`);
  if (w.previousValidUntil) parts.push(`previous secret signing until ${w.previousValidUntil.toISOString()}`);
  return parts.join("; ");
}

function printSecret(secret: string): void {
  console.log("its signing secret, shown only this once; store it where the receiver checks signatures:");
  console.log(secret);
}
