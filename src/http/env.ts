import type { HttpBindings } from "@hono/node-server";
import type { Logger } from "pino";
import type { Carrier } from "../carriers/carrier.js";
import type { Config } from "../config/index.js";
import type { Database } from "../db/open.js";
import type { RequestLog } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { ChallengeDeps } from "../otp/deps.js";
import type { Clock } from "../otp/clock.js";
import type { ServiceDirectory } from "../services/directory.js";
import type { ServiceSettings } from "../services/settings.js";
import type { KeyRing } from "../tokens/key-ring.js";
import type { Lifecycle } from "./drain.js";

/**
 * What the HTTP layer is given and what a request carries, in a module of types only:
 * every route and middleware imports it, and it imports none of them back.
 */

export interface AppDeps {
  config: Readonly<Config>;
  database: Database;
  carrier: Carrier;
  clock: Clock;
  logger: Logger;
  /** Where carriers reach this instance; a function because the port may be known only after listen. */
  publicBaseUrl: () => string;
  /** Draining once shutdown begins: /readyz turns load balancers away, new work is refused, webhooks still served. */
  lifecycle: Lifecycle;
  otp: ChallengeDeps;
  /** Each service's settings, kept current across instances. */
  services: ServiceDirectory;
  metrics: Metrics;
  /** The keys verification tokens are signed with, and the JWKS that publishes them. */
  tokens: KeyRing;
  /**
   * What the in-process simulator's phone has heard so far on a challenge's call, code
   * included; undefined for an unknown call. Set only with the simulator outside
   * production, where the phone's log line shows the same: the /demo page shows it.
   */
  heard?: (challengeId: string) => readonly string[] | undefined;
}

/** The API key a request was let in with. */
export interface KeyIdentity {
  /** Recorded on each challenge: which key created it, never the key itself. */
  name: string;
  /** Requests this key may make per minute. */
  perMinute: number;
  /** The service it acts in (admin keys: the default service, which they never act in). */
  serviceId: string;
}

export type AppEnv = {
  Bindings: HttpBindings;
  Variables: { apiKey: KeyIdentity; service: ServiceSettings; log: RequestLog; requestId: string };
};
