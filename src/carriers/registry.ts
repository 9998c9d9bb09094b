import type { z } from "zod";
import { signalwireCarrier } from "./signalwire/index.js";
import { telnyxCarrier } from "./telnyx/index.js";
import { twilioCarrier } from "./twilio/index.js";

/**
 * Every carrier the service can call with. CARRIER's choices, the configuration's
 * variables, the signature headers the webhook route passes on, the error catalogue's
 * carrier names and the OpenAPI text all derive from this table; adding a carrier is
 * adding its folder and one line here. The order is the order in which a carrier is
 * picked when CARRIER is unset and some of its variables are.
 */
export const CARRIERS = {
  twilio: twilioCarrier,
  signalwire: signalwireCarrier,
  telnyx: telnyxCarrier,
};

export type CarrierName = keyof typeof CARRIERS;
export const CARRIER_NAMES = Object.keys(CARRIERS) as [CarrierName, ...CarrierName[]];

/** What a carrier's settings function makes of its variables. */
export type SettingsOf<K extends CarrierName> = ReturnType<(typeof CARRIERS)[K]["settings"]>;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type Shapes = { [K in CarrierName]: (typeof CARRIERS)[K]["configSchema"]["shape"] };

/** Every carrier's variables in one zod shape, for the environment's schema. */
export const carrierVariables = Object.assign(
  {},
  ...Object.values(CARRIERS).map((c) => c.configSchema.shape as z.ZodRawShape),
) as UnionToIntersection<Shapes[CarrierName]>;

/** Every carrier's webhook signature headers, lower-cased: all the webhook route reads of a request's headers. */
export const SIGNATURE_HEADERS: readonly string[] = [...new Set(Object.values(CARRIERS).flatMap((c) => Object.keys(c.signatureHeaders)))];
