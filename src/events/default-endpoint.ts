import type { DefaultWebhook } from "../config/index.js";
import type { Database } from "../db/open.js";
import { DEFAULT_SERVICE_ID } from "../db/schema.js";
import type { Logger } from "../logger.js";
import type { CodeKeys } from "../otp/codes.js";
import { loadEndpoints, setEndpoint } from "./endpoints.js";

/**
 * The default service's endpoint follows the environment: at start, WEBHOOK_URL,
 * WEBHOOK_SECRET and WEBHOOK_EVENTS are written as its endpoint. A new WEBHOOK_SECRET is
 * a rotation (setEndpoint keeps the previous one signing for a day), so instances still
 * running with the old one and receivers not yet switched both keep working.
 */
export async function writeDefaultEndpoint(database: Database, keys: CodeKeys, webhook: DefaultWebhook | undefined, now: Date, logger: Logger): Promise<void> {
  const current = (await loadEndpoints(database, keys, [DEFAULT_SERVICE_ID], now)).get(DEFAULT_SERVICE_ID);
  if (!webhook) {
    // Unset, it may still have been set through the admin API (or by an earlier WEBHOOK_URL): say where events go.
    if (current) logger.info({ url: origin(current.url) }, "WEBHOOK_URL not set: the default service's events go to the endpoint set through the admin API or the CLI");
    return;
  }
  const sameTypes = JSON.stringify(current?.eventTypes ?? null) === JSON.stringify(webhook.eventTypes);
  // Unchanged: nothing written, so that every start does not contend for the row.
  if (current && current.url === webhook.url && current.secrets[0] === webhook.secret && sameTypes && !current.disabledAt) return;
  await setEndpoint(database, keys, { serviceId: DEFAULT_SERVICE_ID, url: webhook.url, secret: webhook.secret, eventTypes: webhook.eventTypes }, now);
  const rotated = current !== undefined && current.secrets[0] !== webhook.secret;
  if (current?.disabledAt) {
    logger.warn({ url: origin(webhook.url), disabledAt: current.disabledAt.toISOString() }, "the default service's webhook had answered 410 Gone: sending to it again (WEBHOOK_URL set at start)");
  }
  logger.info(
    { url: origin(webhook.url), events: webhook.eventTypes ?? "all" },
    rotated ? "default service's webhook set from WEBHOOK_URL; WEBHOOK_SECRET is new: the previous secret keeps signing for 24 hours" : "default service's webhook set from WEBHOOK_URL",
  );
}

/** The scheme and host only: a webhook URL's path or query may hold the receiver's own token. */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(unparsable URL)";
  }
}
