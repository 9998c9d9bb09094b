import type { FlavorDefinition } from "../flavor.js";
import { signalwireFlavor } from "./signalwire.js";
import { telnyxFlavor } from "./telnyx.js";
import { twilioFlavor } from "./twilio.js";

/** Every carrier the simulator plays; Flavor and SIMULATOR_FLAVOR's choices derive from it. */
export const FLAVORS = {
  twilio: twilioFlavor,
  signalwire: signalwireFlavor,
  telnyx: telnyxFlavor,
} satisfies Record<string, FlavorDefinition>;

export type Flavor = keyof typeof FLAVORS;
