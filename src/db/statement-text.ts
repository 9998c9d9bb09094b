import { fillPlaceholders, is, Placeholder } from "drizzle-orm";

/**
 * The text and parameters a statement written with `sql.placeholder("name")` is sent
 * with, made smaller once so each execution costs less: postgres.js concatenates,
 * flattens and hashes the whole text on every execution to find its prepared
 * statement, and its Bind message carries every parameter slot.
 */
export interface StatementText {
  text: string;
  /** Fills the placeholders with a request's values, in the order of the text's $n. */
  fill(values: Record<string, unknown>): unknown[];
}

export function statementText(query: { sql: string; params: unknown[] }): StatementText {
  const shared = sharePlaceholders(compactSql(query.sql), query.params);
  return { text: shared.text, fill: (values) => fillPlaceholders(shared.params, values) };
}

/**
 * A statement's text with its layout folded to single spaces, outside string literals.
 * Text with comments or dollar quoting is left as it is.
 */
export function compactSql(text: string): string {
  if (text.includes("--") || text.includes("/*") || text.includes("$$")) return text;
  return outsideLiterals(text, (part) => part.replace(/\s+/g, " ")).trim();
}

/**
 * drizzle gives every occurrence of a placeholder a parameter of its own: the
 * validation statement named its time 7 times and its code's MAC 6 times, so its
 * Bind message was ~4 times the size of its values, and postgres.js, which flushes a
 * connection's pipelined queries to the socket once they pass 1 KB, wrote to the
 * socket for nearly every query. Each placeholder name takes one parameter here.
 */
export function sharePlaceholders(text: string, params: unknown[]): { text: string; params: unknown[] } {
  if (text.includes("$$")) return { text, params };
  const kept: unknown[] = [];
  const byName = new Map<string, number>();
  // Old parameter number (1-based) → new one.
  const renumber = params.map((param) => {
    if (is(param, Placeholder)) {
      const known = byName.get(param.name);
      if (known !== undefined) return known;
      byName.set(param.name, kept.push(param));
      return kept.length;
    }
    return kept.push(param);
  });
  if (kept.length === params.length) return { text, params };
  const renumbered = outsideLiterals(text, (part) =>
    part.replace(/\$(\d+)\b/g, (whole, n: string) => {
      const to = renumber[Number(n) - 1];
      if (to === undefined) throw new Error(`statement names parameter ${whole} but has ${params.length}`);
      return `$${to}`;
    }),
  );
  return { text: renumbered, params: kept };
}

/** Applies fn to the parts of text outside its string literals ('' inside one splits it into an empty part). */
function outsideLiterals(text: string, fn: (part: string) => string): string {
  return text
    .split("'")
    .map((part, i) => (i % 2 === 0 ? fn(part) : part))
    .join("'");
}
