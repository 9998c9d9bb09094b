import type { CarrierChoice } from "./carriers.js";
import { ConfigError } from "./error.js";
import type { Env } from "./schema.js";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/**
 * With no API_KEYS the API is open: anyone who reaches the port can place calls, and
 * any web page the developer visits can post a form to it. On the simulator that rings
 * nobody; with a real carrier it rings real phones on the developer's account, and an
 * ngrok tunnel publishes the port to the internet. So an open API with a real carrier
 * starts only when asked for (ALLOW_OPEN_API) and then on loopback alone; behind a
 * tunnel, which forwards to loopback too, never. Returns the address to listen on.
 */
export function listenAddress(e: Env, carrier: CarrierChoice["name"]): string {
  if (e.API_KEYS.length > 0) return e.HOST ?? "0.0.0.0";
  if (e.NGROK_AUTHTOKEN) {
    throw new ConfigError(
      "API_KEYS: required with NGROK_AUTHTOKEN: the tunnel publishes the API to the internet, where anyone could place calls (try: API_KEYS=$(openssl rand -hex 32))",
    );
  }
  if (carrier === "simulator") return e.HOST ?? "0.0.0.0";
  if (!e.ALLOW_OPEN_API) {
    throw new ConfigError(
      `API_KEYS: required with CARRIER=${carrier}: without keys any web page you visit could ring real phones on your account (try: API_KEYS=$(openssl rand -hex 32)); ALLOW_OPEN_API=true runs it open on 127.0.0.1 only`,
    );
  }
  if (e.HOST !== undefined && !LOOPBACK.has(e.HOST)) {
    throw new ConfigError(`HOST: ALLOW_OPEN_API=true listens on 127.0.0.1 only (got "${e.HOST}"); set API_KEYS to listen on ${e.HOST}`);
  }
  return e.HOST ?? "127.0.0.1";
}
