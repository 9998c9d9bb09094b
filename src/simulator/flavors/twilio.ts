import { randomBytes } from "node:crypto";
import type { FlavorDefinition } from "../flavor.js";
import { lamlFlavor } from "./laml.js";

/** Twilio: CA… call ids, and webhooks signed with the auth token itself. */
export const twilioFlavor: FlavorDefinition = {
  forAccount: (account) =>
    lamlFlavor(account, {
      newSid: () => `CA${randomBytes(16).toString("hex")}`,
      signatureHeader: "X-Twilio-Signature",
      signingKey: account.authToken,
      userAgent: "TwilioProxy/1.1",
      serviceEnv: (apiBaseUrl, from) => ({
        CARRIER: "twilio",
        TWILIO_ACCOUNT_SID: account.accountSid,
        TWILIO_AUTH_TOKEN: account.authToken,
        TWILIO_NUMBER: from,
        TWILIO_API_BASE_URL: apiBaseUrl,
      }),
    }),
  newAccountId: () => `AC${randomBytes(16).toString("hex")}`,
};
