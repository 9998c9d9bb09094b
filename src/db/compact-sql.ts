/**
 * A statement's text with its layout folded to single spaces, outside string literals.
 * postgres.js concatenates, flattens and hashes the whole text on every execution to
 * find its prepared statement, so the indentation of a long statement is paid for on
 * each request. Text with comments or dollar quoting is left as it is.
 */
export function compactSql(text: string): string {
  if (text.includes("--") || text.includes("/*") || text.includes("$$")) return text;
  // Split on quotes: even parts are outside literals ('' inside one makes an empty odd part).
  return text
    .split("'")
    .map((part, i) => (i % 2 === 0 ? part.replace(/\s+/g, " ") : part))
    .join("'")
    .trim();
}
