import { DEFAULT_BLOCKED_PREFIXES } from "../src/config/index.js";
import { refuseDestination } from "../src/limits/destinations.js";
import { parsePhone } from "../src/phone.js";

/**
 * Distinct US numbers the service will call: +1 AAA 555 01xx. The 555-0100…0199
 * lines are the only valid 555 numbers, and libphonenumber accepts them in a few
 * hundred area codes, which gives tens of thousands of numbers across many
 * prefixes (so the per-prefix limits see a realistic spread).
 */
export function numberPool(): string[] {
  const policy = { allowedCountries: ["US"], blockedPrefixes: DEFAULT_BLOCKED_PREFIXES };
  const pool: string[] = [];
  for (let line = 0; line < 100; line++) {
    // Area codes in the inner loop: consecutive numbers fall in different prefixes.
    for (let area = 200; area < 1000; area++) {
      const candidate = `+1${area}55501${String(line).padStart(2, "0")}`;
      const parsed = parsePhone(candidate, "US");
      if (parsed.ok && parsed.phone.e164 === candidate && !refuseDestination(parsed.phone, policy)) pool.push(candidate);
    }
  }
  return pool;
}

/** An endless cycle over items, shared by every connection of one load run. */
export function cycle<T>(items: readonly T[]): () => T {
  if (items.length === 0) throw new Error("cannot cycle over nothing");
  let i = 0;
  return () => items[i++ % items.length]!;
}
