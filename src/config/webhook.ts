import type { EventType } from "../events/outbox.js";
import { checkTargetUrl, type TargetPolicy } from "../events/target.js";
import { ConfigError } from "./error.js";
import { MAKE_WEBHOOK_SECRET, type Env } from "./schema.js";

/**
 * Where event webhooks may go, and the default service's endpoint from WEBHOOK_URL,
 * WEBHOOK_SECRET and WEBHOOK_EVENTS. A URL that would be refused at delivery stops the
 * service at start instead, so a typo does not surface a day later as failed events.
 */

export interface DefaultWebhook {
  url: string;
  secret: string;
  /** null: every type, including types added later. */
  eventTypes: EventType[] | null;
}

/**
 * The target policy, for every endpoint (the environment's and the API's) and every
 * delivery: https and public addresses in production, as issue 21 asks; elsewhere a
 * receiver on this machine is the usual development setup.
 */
export function webhookTargets(e: Env): TargetPolicy {
  const production = e.NODE_ENV === "production";
  return { requireHttps: production, allowPrivate: e.ALLOW_PRIVATE_WEBHOOKS || !production };
}

export function defaultWebhook(e: Env, targets: TargetPolicy): DefaultWebhook | undefined {
  if (!e.WEBHOOK_URL) {
    const stray = e.WEBHOOK_SECRET !== undefined ? "WEBHOOK_SECRET" : e.WEBHOOK_EVENTS.length > 0 ? "WEBHOOK_EVENTS" : undefined;
    if (stray) throw new ConfigError(`${stray}: set WEBHOOK_URL too (where the default service's events go), or remove ${stray}`);
    return undefined;
  }
  const reason = checkTargetUrl(e.WEBHOOK_URL, targets);
  if (reason) throw new ConfigError(`WEBHOOK_URL: ${reason}`);
  if (!e.WEBHOOK_SECRET) throw new ConfigError(`WEBHOOK_SECRET: required when WEBHOOK_URL is set (the key events are signed with); ${MAKE_WEBHOOK_SECRET}`);
  return {
    url: e.WEBHOOK_URL,
    secret: e.WEBHOOK_SECRET,
    eventTypes: e.WEBHOOK_EVENTS.length ? [...new Set(e.WEBHOOK_EVENTS as EventType[])] : null,
  };
}
