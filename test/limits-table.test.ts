import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { LIMIT_RULES } from "../src/limits/rules.js";

/** The README's limits table, as src/limits/rules.ts would write it. */
function limitsTable(): string {
  const rows = LIMIT_RULES.map((r) => `| \`${r.name}\` | ${r.counts} | ${r.window} | \`${r.variable}\` |`);
  return ["| `limit` in the 429 | counted per | window | set by |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

describe("the README's limits table", () => {
  it("lists every limit of src/limits/rules.ts as the rules do, in their order", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    expect(readme, `README.md should hold this table:\n\n${limitsTable()}\n`).toContain(limitsTable());
  });
});
