import type { Config } from "../config/index.js";
import type { Carrier } from "./carrier.js";
import { CARRIERS, type CarrierName, type SettingsOf } from "./registry.js";

export interface SimulatorAccount {
  apiBaseUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
}

/**
 * The configured carrier; CARRIER=simulator is the Twilio SDK pointed at the in-process
 * simulator. Each SDK is loaded only when chosen: the SignalWire SDK alone holds about
 * 100 MB once loaded.
 */
export async function createCarrier(config: Config["carrier"], simulator?: SimulatorAccount): Promise<Carrier> {
  const opts = { timeoutMs: config.timeoutMs };
  if (config.name === "simulator") {
    if (!simulator) throw new Error("CARRIER=simulator needs the simulator's address and account");
    return CARRIERS.twilio.connect(simulator, { ...opts, name: "simulator" });
  }
  return connect(config.name, config[config.name], opts);
}

function connect<K extends CarrierName>(name: K, settings: SettingsOf<K> | undefined, opts: { timeoutMs: number }): Promise<Carrier> {
  if (!settings) throw new Error(`CARRIER=${name} without its settings`);
  return (CARRIERS[name].connect as (s: SettingsOf<K>, o: { timeoutMs: number }) => Promise<Carrier>)(settings, opts);
}
