// The carrier simulator's public face: startSimulator and the types its callers use.
export { startSimulator, type Simulator, type SimulatorOptions } from "./simulator.js";
export type { CallMatch } from "./waits.js";
export { API_ERRORS, type CallRecord, type Flavor, type Outcome } from "./types.js";
