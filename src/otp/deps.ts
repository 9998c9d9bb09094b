import type { Limits } from "../config/index.js";
import type { Database } from "../db/open.js";
import type { Clock } from "./clock.js";
import type { CodeKeys } from "./codes.js";

/** What the domain is given: the database, the code keys, the time, and the deployment's limits. */

export interface OtpSettings {
  length: number;
  ttlSeconds: number;
  maxAttempts: number;
}

export interface ChallengeDeps {
  database: Database;
  keys: CodeKeys;
  clock: Clock;
  /** The deployment's limits: those every service shares (ranges, addresses, the spend cap). */
  limits: Limits;
}

/** What the rules need of the service a request acts in: its id, its codes and its limits. */
export interface ServiceRules {
  id: string;
  otp: OtpSettings;
  /** The deployment's, with the service's own per-number limits and spend cap. */
  limits: Limits;
}
