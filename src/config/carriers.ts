import { ConfigError } from "./error.js";
import type { Env } from "./schema.js";

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  from: string;
  apiBaseUrl?: string;
  /** HTTP_PROXY or TWILIO_CA_BUNDLE is set: requests go through the SDK's own HTTP client, which applies them. */
  sdkHttpClient?: boolean;
}

export interface SignalWireSettings {
  project: string;
  token: string;
  space: string;
  from: string;
  signingKey: string;
  apiBaseUrl?: string;
}

export type CarrierName = NonNullable<Env["CARRIER"]>;

/** The carrier to call with, and the settings of every carrier whose credentials are complete. */
export interface CarrierChoice {
  name: CarrierName;
  twilio?: TwilioSettings;
  signalwire?: SignalWireSettings;
}

/**
 * CARRIER, or with none named the carrier whose credentials are (even partly) present:
 * a half-filled set is a mistake to report, not a reason to fall back to the simulator.
 */
export function chooseCarrier(e: Env): CarrierChoice {
  const twilio =
    e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN && e.TWILIO_NUMBER
      ? {
          accountSid: e.TWILIO_ACCOUNT_SID,
          authToken: e.TWILIO_AUTH_TOKEN,
          from: e.TWILIO_NUMBER,
          apiBaseUrl: e.TWILIO_API_BASE_URL,
          sdkHttpClient: e.HTTP_PROXY !== undefined || e.TWILIO_CA_BUNDLE !== undefined,
        }
      : undefined;
  const signalwire =
    e.SIGNALWIRE_PROJECT && e.SIGNALWIRE_TOKEN && e.SIGNALWIRE_SPACE && e.SIGNALWIRE_NUMBER
      ? {
          project: e.SIGNALWIRE_PROJECT,
          token: e.SIGNALWIRE_TOKEN,
          space: e.SIGNALWIRE_SPACE,
          from: e.SIGNALWIRE_NUMBER,
          signingKey: e.SIGNALWIRE_SIGNING_KEY ?? e.SIGNALWIRE_TOKEN,
          apiBaseUrl: e.SIGNALWIRE_API_BASE_URL,
        }
      : undefined;

  const twilioVars = { TWILIO_ACCOUNT_SID: e.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN: e.TWILIO_AUTH_TOKEN, TWILIO_NUMBER: e.TWILIO_NUMBER };
  const signalwireVars = {
    SIGNALWIRE_PROJECT: e.SIGNALWIRE_PROJECT,
    SIGNALWIRE_TOKEN: e.SIGNALWIRE_TOKEN,
    SIGNALWIRE_SPACE: e.SIGNALWIRE_SPACE,
    SIGNALWIRE_NUMBER: e.SIGNALWIRE_NUMBER,
  };
  const anySet = (vars: Record<string, string | undefined>) => Object.values(vars).some(Boolean);
  const name = e.CARRIER ?? (anySet(twilioVars) ? "twilio" : anySet(signalwireVars) ? "signalwire" : "simulator");
  const requireAll = (vars: Record<string, string | undefined>, where: string) => {
    const missing = Object.entries(vars).filter(([, v]) => !v).map(([k]) => k);
    if (missing.length) {
      throw new ConfigError(`${missing[0]}: required with CARRIER=${name} (missing: ${missing.join(", ")}; find them in ${where})`);
    }
  };
  if (name === "twilio") requireAll(twilioVars, "the Twilio console");
  if (name === "signalwire") requireAll(signalwireVars, "the SignalWire dashboard");

  return { name, twilio, signalwire };
}
