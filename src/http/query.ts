import { z } from "zod";

/**
 * Query-string pieces the read routes share (the list of challenges, the statistics).
 * They stay strings in the schema, so the document shows what a client sends, and are
 * read with the helpers below once the schema has accepted them.
 */

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const dateTime = z.iso.datetime({ offset: true });

/** Years a query may name: PostgreSQL has no year 0, and nothing here is older than 1970. */
const FIRST = Date.UTC(1970, 0, 1);
const LAST = Date.UTC(10000, 0, 1);

/** An instant from a query: a date (UTC midnight) or a date-time with its offset; null when neither, or outside 1970–9999. */
export function parseTime(text: string): Date | null {
  const d = DATE.test(text) ? new Date(`${text}T00:00:00Z`) : dateTime.safeParse(text).success ? new Date(text) : null;
  return d && !Number.isNaN(d.getTime()) && d.getTime() >= FIRST && d.getTime() < LAST ? d : null;
}

/** A time parameter: the route's description says what the instant bounds. */
export const timeParam = (description: string, example: string) =>
  z
    .string()
    .refine((v) => parseTime(v) !== null, "expected an ISO 8601 date (2026-11-22, read as UTC midnight) or date-time with its offset (2026-11-22T08:00:00Z), from 1970 to 9999")
    .optional()
    .meta({ param: { example }, description });
