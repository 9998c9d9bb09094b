import type { Config } from "../config/index.js";
import type { Carrier } from "./carrier.js";

export interface SimulatorAccount {
  apiBaseUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
}

/**
 * The configured carrier; CARRIER=simulator is the Twilio SDK pointed at the in-process
 * simulator. Each SDK is imported only when chosen: the SignalWire SDK alone holds about
 * 100 MB once loaded.
 */
export async function createCarrier(config: Config["carrier"], simulator?: SimulatorAccount): Promise<Carrier> {
  const opts = { timeoutMs: config.timeoutMs };
  switch (config.name) {
    case "twilio":
      return (await import("./twilio.js")).createTwilioCarrier(config.twilio!, opts);
    case "signalwire":
      return (await import("./signalwire.js")).createSignalWireCarrier(config.signalwire!, opts);
    case "simulator":
      if (!simulator) throw new Error("CARRIER=simulator needs the simulator's address and account");
      return (await import("./twilio.js")).createTwilioCarrier(simulator, { ...opts, name: "simulator" });
  }
}
