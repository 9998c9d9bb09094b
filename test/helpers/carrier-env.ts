import type { Flavor } from "../../src/simulator/index.js";

/** Variables that select each carrier in the configuration (API_KEYS too: a real carrier needs them). */
export const CARRIER_ENV: Record<Flavor, Record<string, string>> = {
  twilio: { API_KEYS: "k".repeat(32), TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`, TWILIO_AUTH_TOKEN: "token", TWILIO_NUMBER: "+15005550006" },
  signalwire: { API_KEYS: "k".repeat(32), SIGNALWIRE_PROJECT: "p", SIGNALWIRE_TOKEN: "t", SIGNALWIRE_SPACE: "example.signalwire.com", SIGNALWIRE_NUMBER: "+1" },
  telnyx: {
    API_KEYS: "k".repeat(32),
    TELNYX_API_KEY: "KEY0123",
    TELNYX_PUBLIC_KEY: Buffer.alloc(32, 7).toString("base64"),
    TELNYX_APPLICATION_ID: "1293384261075731499",
    TELNYX_NUMBER: "+13125550100",
  },
};
