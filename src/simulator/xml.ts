// Just enough XML for voice documents: elements, attributes, text, entities.
// Anything malformed is an error, as it would be for the carrier.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | { text: string };

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const cp = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(cp) ? String.fromCodePoint(cp) : whole;
    }
    const named = ENTITIES[ref];
    if (named === undefined) throw new Error(`unknown entity &${ref};`);
    return named;
  });
}

export function parseXml(source: string): XmlElement {
  const body = source.replace(/^\uFEFF?\s*<\?xml[^?]*\?>/, "").replace(/<!--[\s\S]*?-->/g, "");
  const root: XmlElement = { name: "#document", attrs: {}, children: [] };
  const stack: XmlElement[] = [root];
  const token = /<[^>]*>|[^<]+/g;
  let m: RegExpExecArray | null;
  while ((m = token.exec(body))) {
    const t = m[0];
    const top = stack[stack.length - 1]!;
    if (!t.startsWith("<")) {
      if (t.trim()) {
        if (top === root) throw new Error("text outside the root element");
        top.children.push({ text: decode(t) });
      }
      continue;
    }
    const close = /^<\/\s*([\w:.-]+)\s*>$/.exec(t);
    if (close) {
      if (top.name !== close[1]) throw new Error(`</${close[1]}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const open = /^<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>$/.exec(t);
    if (!open) throw new Error(`malformed tag ${t.slice(0, 40)}`);
    const attrs: Record<string, string> = {};
    for (const a of open[2]!.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      attrs[a[1]!] = decode(a[2] ?? a[3] ?? "");
    }
    const el: XmlElement = { name: open[1]!, attrs, children: [] };
    if (top === root && root.children.length > 0) throw new Error("more than one root element");
    top.children.push(el);
    if (!open[3]) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1]!.name}> is never closed`);
  const doc = root.children[0];
  if (!doc || "text" in doc) throw new Error("no root element");
  return doc;
}

/** All text inside a node, pieces separated by a space, whitespace collapsed. */
export function textOf(node: XmlNode): string {
  if ("text" in node) return node.text;
  return node.children
    .map(textOf)
    .join(" ")
    .replace(/\s+/g, " ")
    .trim();
}
