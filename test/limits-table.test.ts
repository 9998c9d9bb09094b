import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { LIMIT_RULES } from "../src/limits/rules.js";
import { SETTINGS } from "../src/services/settings.js";

/** The README's limits table, as src/limits/rules.ts would write it. */
function limitsTable(): string {
  const rows = LIMIT_RULES.map((r) => `| \`${r.name}\` | ${r.counts} | ${r.window} | \`${r.variable}\` | ${r.setting ? `\`${r.setting}\`` : "no"} |`);
  return ["| `limit` in the 429 | counted per | window | set by | a service's own |", "| --- | --- | --- | --- | --- |", ...rows].join("\n");
}

describe("the README's limits table", () => {
  it("lists every limit of src/limits/rules.ts as the rules do, in their order", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    expect(readme, `README.md should hold this table:\n\n${limitsTable()}\n`).toContain(limitsTable());
  });

  it("names, for each limit a service may set, a setting that its variable sets for the default service", () => {
    for (const rule of LIMIT_RULES.filter((r) => r.setting !== undefined)) {
      expect(Object.hasOwn(SETTINGS, rule.setting!), rule.name).toBe(true);
      expect(SETTINGS[rule.setting as keyof typeof SETTINGS].variable, rule.name).toBe(rule.variable);
    }
  });
});
