import { z } from "zod";

/**
 * The value types environment variables are parsed with, shared by the service's own
 * schema (schema.ts) and each carrier's (src/carriers/<name>/index.ts).
 */

export const bool = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .transform((v) => v === "true" || v === "1" || v === "yes");

export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const url = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), "must start with http:// or https://")
  .transform((u) => u.replace(/\/+$/, ""));

/** Unset or empty: undefined. */
export const optional = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (v === "" ? undefined : v), schema.optional());
