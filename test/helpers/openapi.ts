import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../../src/http/env.js";

/** The served document, read loosely: the tests say what they expect of it. */
export type Doc = Record<string, any>;

/** A route as declared with createRoute(): the zod schemas behind the document. */
export interface RouteDef {
  method: string;
  path: string;
  request?: { body?: { content: Record<string, { schema: z.ZodType }> } } & Partial<Record<"params" | "query" | "headers", z.ZodObject>>;
  responses: Record<string, { content?: Record<string, { schema: z.ZodType }>; headers?: z.ZodObject }>;
}

export function declaredRoutes(app: OpenAPIHono<AppEnv>): RouteDef[] {
  return app.openAPIRegistry.definitions.flatMap((d) => (d.type === "route" ? [d.route as unknown as RouteDef] : []));
}

/** The document's own JSON schema for a value ($refs inlined), as a zod validator: a second, independent check. */
export function jsonSchemaOf(doc: Doc, schema: unknown): z.ZodType {
  const inline = (s: unknown): unknown => {
    if (Array.isArray(s)) return s.map(inline);
    if (!s || typeof s !== "object") return s;
    const ref = (s as { $ref?: string }).$ref;
    if (ref) return inline(doc.components.schemas[ref.replace("#/components/schemas/", "")]);
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, inline(v)]));
  };
  return z.fromJSONSchema(inline(schema) as Parameters<typeof z.fromJSONSchema>[0]);
}

/** The example values an OpenAPI object carries, by name. */
function examplesOf(o: { example?: unknown; examples?: Record<string, { value: unknown }> } | undefined): Array<[string, unknown]> {
  if (!o) return [];
  return [
    ...(o.example !== undefined ? ([["example", o.example]] as Array<[string, unknown]>) : []),
    ...Object.entries(o.examples ?? {}).map(([k, v]): [string, unknown] => [k, v.value]),
  ];
}

/** How many example values the document holds anywhere (in media types, parameters, headers or schemas). */
function countExamples(node: unknown): number {
  if (Array.isArray(node)) return node.reduce((n: number, v) => n + countExamples(v), 0);
  if (!node || typeof node !== "object") return 0;
  let n = 0;
  for (const [k, v] of Object.entries(node)) {
    if (k === "example") n += 1;
    else if (k === "examples") n += Array.isArray(v) ? v.length : Object.keys(v as object).length;
    else n += countExamples(v);
  }
  return n;
}

/**
 * Checks every example of every declared route against the zod schema its
 * declaration gives (and against the document's JSON schema for the same place).
 */
export function checkExamples(doc: Doc, routes: RouteDef[]) {
  let checked = 0;
  const failures: string[] = [];
  const check = (where: string, zod: z.ZodType | undefined, jsonSchema: unknown, examples: Array<[string, unknown]>) => {
    for (const [name, value] of examples) {
      checked++;
      if (!zod) {
        failures.push(`${where} ${name}: no zod schema declared`);
        continue;
      }
      // The webhooks' bodies are declared as JSON Schema (so that no validator parses them before their signature check).
      if (typeof zod.safeParse === "function") {
        const byZod = zod.safeParse(value);
        if (!byZod.success) failures.push(`${where} ${name}: ${byZod.error.message}`);
      } else if (!jsonSchemaOf(doc, zod).safeParse(value).success) {
        failures.push(`${where} ${name}: refused by its declared JSON schema`);
      }
      if (!jsonSchemaOf(doc, jsonSchema).safeParse(value).success) failures.push(`${where} ${name}: refused by the document's JSON schema`);
    }
  };
  for (const route of routes) {
    const op = doc.paths[route.path]?.[route.method];
    const at = `${route.method.toUpperCase()} ${route.path}`;
    if (!op) {
      failures.push(`${at}: not in the document`);
      continue;
    }
    for (const [type, media] of Object.entries(route.request?.body?.content ?? {})) {
      const served = op.requestBody.content[type];
      check(`${at} body ${type}`, media.schema, served.schema, examplesOf(served));
    }
    const locations = { path: route.request?.params, query: route.request?.query, header: route.request?.headers };
    for (const p of op.parameters ?? []) {
      const field = locations[p.in as keyof typeof locations]?.shape[p.name] as z.ZodType | undefined;
      check(`${at} ${p.in} ${p.name}`, field, p.schema, examplesOf(p));
    }
    for (const [status, response] of Object.entries(route.responses)) {
      const served = op.responses[status];
      for (const [type, media] of Object.entries(response.content ?? {})) {
        check(`${at} ${status} ${type}`, media.schema, served.content[type].schema, examplesOf(served.content[type]));
      }
      for (const [name, header] of Object.entries(served.headers ?? {}) as Array<[string, { schema: unknown; example?: unknown }]>) {
        check(`${at} ${status} header ${name}`, response.headers?.shape[name] as z.ZodType | undefined, header.schema, examplesOf(header));
      }
    }
  }
  return { checked, total: countExamples(doc), failures };
}
