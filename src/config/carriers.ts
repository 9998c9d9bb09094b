import { CARRIERS, CARRIER_NAMES, type CarrierName, type SettingsOf } from "../carriers/registry.js";
import { ConfigError } from "./error.js";
import type { Env } from "./schema.js";

export type { CarrierName } from "../carriers/registry.js";

/** The carrier to call with, and the settings of every carrier whose required variables are all set. */
export type CarrierChoice = { name: CarrierName | "simulator" } & { [K in CarrierName]?: SettingsOf<K> };

/**
 * CARRIER, or with none named the first carrier (in the registry's order) with some of
 * its variables present: a half-filled set is a mistake to report, not a reason to fall
 * back to the simulator.
 */
export function chooseCarrier(e: Env): CarrierChoice {
  const vars = e as unknown as Record<string, unknown>;
  const missing = (name: CarrierName) => CARRIERS[name].requiredVariables.filter((v) => !vars[v]);
  const anySet = (name: CarrierName) => CARRIERS[name].requiredVariables.some((v) => vars[v]);

  const name = e.CARRIER ?? CARRIER_NAMES.find(anySet) ?? "simulator";
  if (name !== "simulator") {
    const absent = missing(name);
    if (absent.length) {
      throw new ConfigError(
        `${absent[0]}: required with CARRIER=${name} (missing: ${absent.join(", ")}; find them in ${CARRIERS[name].whereToFind})`,
      );
    }
  }
  const choice: CarrierChoice = { name };
  for (const carrier of CARRIER_NAMES) {
    if (missing(carrier).length === 0) {
      (choice as Record<string, unknown>)[carrier] = (CARRIERS[carrier].settings as (v: unknown) => unknown)(e);
    }
  }
  return choice;
}
