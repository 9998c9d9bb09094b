// The carrier simulator's public face: startSimulator and the types its callers use.
export { startSimulator, type Simulator, type SimulatorOptions } from "./simulator.js";
export type { CallMatch } from "./waits.js";
export type { Flavor } from "./flavors/index.js";
export type { CallRecord, Outcome } from "./types.js";
export { challengeOf, type HeardOn } from "./heard.js";
