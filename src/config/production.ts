import { CARRIER_NAMES } from "../carriers/registry.js";
import type { CarrierChoice } from "./carriers.js";
import { ConfigError } from "./error.js";
import type { Env } from "./schema.js";

/**
 * What NODE_ENV=production demands beyond a valid environment: API keys, a secret key
 * given rather than generated, a carrier that rings real phones (unless a smoke test
 * asks for the simulator), a public https URL for the carriers' webhooks, and a token
 * on /metrics (its counters describe the traffic and the carrier account). Kept
 * apart so the policy reads in one place; throws ConfigError at the first gap.
 */
export function checkProductionPolicy(e: Env, carrier: CarrierChoice["name"]): void {
  if (e.API_KEYS.length === 0) {
    throw new ConfigError("API_KEYS: required when NODE_ENV=production (comma-separated; try: openssl rand -hex 32)");
  }
  if (!e.SECRET_KEY) {
    throw new ConfigError("SECRET_KEY: required when NODE_ENV=production (try: openssl rand -hex 32)");
  }
  if (!e.METRICS_TOKEN) {
    throw new ConfigError("METRICS_TOKEN: required when NODE_ENV=production (Prometheus sends it as a Bearer token; try: openssl rand -hex 32)");
  }
  if (carrier === "simulator" && !e.ALLOW_SIMULATOR_IN_PRODUCTION) {
    throw new ConfigError(
      `CARRIER: the simulator places no real calls; set CARRIER=${CARRIER_NAMES.join(", ").replace(/, ([^,]+)$/, " or $1")} with credentials, or ALLOW_SIMULATOR_IN_PRODUCTION=true for a smoke test`,
    );
  }
  if (!e.PUBLIC_BASE_URL && !e.NGROK_AUTHTOKEN) {
    throw new ConfigError("PUBLIC_BASE_URL: required when NODE_ENV=production (the https URL carriers call back)");
  }
  if (e.PUBLIC_BASE_URL && !e.PUBLIC_BASE_URL.startsWith("https://") && !e.NGROK_AUTHTOKEN) {
    throw new ConfigError("PUBLIC_BASE_URL: must be https:// when NODE_ENV=production (webhooks carry call data; put TLS in front)");
  }
}
