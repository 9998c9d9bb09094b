import type { Context } from "hono";

export type FormFields = Record<string, string | string[]>;

/**
 * A form body with every value of a repeated key kept (carriers sign each one), in
 * the shape of Hono's parseBody({ all: true }). URL-encoded forms, which is what
 * carriers send, are read as text and split with URLSearchParams: Hono's parser builds
 * a fetch Response to get a FormData first, a large share of a webhook's CPU. Multipart
 * bodies still take Hono's parser. Throws on a body that is not a form.
 */
export async function readForm(c: Context): Promise<FormFields> {
  const type = c.req.header("content-type")?.split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return (await c.req.parseBody({ all: true })) as FormFields;
  const fields: FormFields = Object.create(null);
  for (const [key, value] of new URLSearchParams(await c.req.text())) {
    const had = fields[key];
    if (had === undefined) fields[key] = key.endsWith("[]") ? [value] : value;
    else if (Array.isArray(had)) had.push(value);
    else fields[key] = [had, value];
  }
  return fields;
}
