import { parseCircular, parseDependencyTree } from "dpdm";
import { describe, expect, it } from "vitest";

describe("the source's imports", () => {
  it("form no cycle: no module of src/ imports one that imports it back, types included", async () => {
    const root = new URL("..", import.meta.url).pathname;
    const tree = await parseDependencyTree("src/**/*.ts", { cwd: root, context: root, transform: false });
    expect(parseCircular(tree)).toEqual([]);
  });
});
