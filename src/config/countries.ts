import { getCountries } from "libphonenumber-js/max";
import { z } from "zod";

/**
 * Country codes as ALLOWED_COUNTRIES and DEFAULT_COUNTRY take them: the ISO 3166-1
 * alpha-2 codes of libphonenumber's regions, the list phone numbers are matched
 * against. A code outside it (UK, XX, usa) would never match a number, so every call
 * to that country would be refused, or every national number misread: it is refused at
 * startup instead, by name.
 */
const REGIONS: ReadonlySet<string> = new Set(getCountries());

function problem(code: string): string | undefined {
  if (REGIONS.has(code.toUpperCase())) return undefined;
  const hint = code.toUpperCase() === "UK" ? " (the United Kingdom is GB)" : "";
  return `"${code}" is not an ISO 3166-1 alpha-2 country code${hint}`;
}

export const countryCode = z
  .string()
  .trim()
  .superRefine((code, ctx) => {
    const p = problem(code);
    if (p) ctx.addIssue({ code: "custom", message: `${p}; use two letters such as US, CA or GB` });
  })
  .transform((code) => code.toUpperCase());

export const countryCodes = z
  .array(z.string())
  .min(1, "name at least one country")
  .superRefine((codes, ctx) => {
    const bad = codes.map(problem).filter((p) => p !== undefined);
    if (bad.length) ctx.addIssue({ code: "custom", message: `${bad.join("; ")}; name countries as two letters such as US,CA,GB` });
  })
  .transform((codes) => codes.map((c) => c.toUpperCase()));
