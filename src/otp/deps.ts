import type { Limits } from "../config/index.js";
import type { Database } from "../db/open.js";
import type { Clock } from "./clock.js";
import type { CodeKeys } from "./codes.js";

/** What the domain is given: the database, the code keys, the time, and the settings. */

export interface OtpSettings {
  length: number;
  ttlSeconds: number;
  maxAttempts: number;
}

export interface ChallengeDeps {
  database: Database;
  keys: CodeKeys;
  clock: Clock;
  otp: OtpSettings;
  limits: Limits;
}
