import { randomUUID } from "node:crypto";
import type { FlavorDefinition } from "../flavor.js";
import { lamlFlavor } from "./laml.js";

/** SignalWire's LaML API: UUID ids, and webhooks signed with the signing key (the API token when there is none). */
export const signalwireFlavor: FlavorDefinition = {
  forAccount: (account) =>
    lamlFlavor(account, {
      newSid: () => randomUUID(),
      signatureHeader: "X-SignalWire-Signature",
      signingKey: account.signingKey ?? account.authToken,
      userAgent: "SignalWire-LaML/1.0",
      serviceEnv: (apiBaseUrl, from) => ({
        CARRIER: "signalwire",
        SIGNALWIRE_PROJECT: account.accountSid,
        SIGNALWIRE_TOKEN: account.authToken,
        ...(account.signingKey ? { SIGNALWIRE_SIGNING_KEY: account.signingKey } : {}),
        SIGNALWIRE_SPACE: "example.signalwire.com",
        SIGNALWIRE_NUMBER: from,
        SIGNALWIRE_API_BASE_URL: apiBaseUrl,
      }),
    }),
  newAccountId: () => randomUUID(),
};
