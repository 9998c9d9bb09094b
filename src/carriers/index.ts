import type { Config } from "../config.js";
import type { Carrier } from "./carrier.js";
import { createSignalWireCarrier } from "./signalwire.js";
import { createTwilioCarrier } from "./twilio.js";

export interface SimulatorAccount {
  apiBaseUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
}

/** The configured carrier; CARRIER=simulator is the Twilio SDK pointed at the in-process simulator. */
export function createCarrier(config: Config["carrier"], simulator?: SimulatorAccount): Carrier {
  const opts = { timeoutMs: config.timeoutMs };
  switch (config.name) {
    case "twilio":
      return createTwilioCarrier(config.twilio!, opts);
    case "signalwire":
      return createSignalWireCarrier(config.signalwire!, opts);
    case "simulator":
      if (!simulator) throw new Error("CARRIER=simulator needs the simulator's address and account");
      return createTwilioCarrier(simulator, { ...opts, name: "simulator" });
  }
}
