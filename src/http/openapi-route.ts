import type { Context, Handler, Hono, TypedResponse } from "hono";
import type { StatusCode } from "hono/utils/http-status";
// Types only: @hono/zod-openapi itself is loaded when the document is first asked for (see openapi.ts).
import type { RouteConfig, RouteConfigToTypedResponse } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../app.js";

/** A route's declaration for the OpenAPI document: @hono/zod-openapi's createRoute(), without loading it. */
export const declareRoute = <R extends RouteConfig>(route: R): R => route;

const declared = new WeakMap<Hono<AppEnv>, RouteConfig[]>();

/** The routes served on an app with serveRoute(), its mounted groups' included. */
export const declarationsOf = (app: Hono<AppEnv>): RouteConfig[] => declared.get(app) ?? [];

/** Mounts a group of routes at the root, its declarations with it (as OpenAPIHono.route() does). */
export function mount(app: Hono<AppEnv>, group: Hono<AppEnv>) {
  app.route("/", group);
  declared.set(app, [...declarationsOf(app), ...declarationsOf(group)]);
}

/**
 * Serves a declared route and records the declaration for the OpenAPI document.
 * Unlike OpenAPIHono's app.openapi(), it adds no validators of its own: the handler
 * reads its body with readBody against the very schema the declaration documents.
 * zod-openapi's validators would answer differently from this service's error
 * catalogue (a bare 415, "Malformed JSON in request body", a form body of another
 * content-type spelling read as empty, a repeated form field as an array), and
 * loading them would cost every process memory for a document few ask for.
 * The handler must return one of the declared responses; errors are thrown as AppError.
 */
export function serveRoute<R extends RouteConfig>(
  app: Hono<AppEnv>,
  route: R,
  handler: (c: Context<AppEnv>) => Declared<R> | Promise<Declared<R>>,
) {
  declared.set(app, [...declarationsOf(app), route]);
  // The typed responses are plain Responses at run time; the signature above did the checking.
  app.on(route.method.toUpperCase(), [route.path.replaceAll(/\/{(.+?)}/g, "/:$1")], handler as Handler<AppEnv>);
}

/** A declared response; one declared without content (a 204) is `c.body(null, status)`. */
type Declared<R extends RouteConfig> =
  | RouteConfigToTypedResponse<R>
  | {
      [S in keyof R["responses"]]: R["responses"][S] extends { content: object } ? never : S extends StatusCode ? TypedResponse<null, S, "body"> : never;
    }[keyof R["responses"]];

/** Every response carries its request's id. */
export const requestIdHeader = z.string().meta({
  description: "This request's id: the caller's X-Request-Id when it is 1-128 letters, digits or `_.:-`, else a generated UUID. Its log line carries the same id.",
});

export const withRequestId = (headers: z.ZodRawShape = {}) => z.object({ "X-Request-Id": requestIdHeader, ...headers });

/** The request header that sets the request id (all routes). */
export const requestIdParam = z.string().optional().meta({
  param: { example: "signin-7f3a9c" },
  description: "Your id for this request, echoed in X-Request-Id and the service's log when it is 1-128 letters, digits or `_.:-`.",
});

type Examples<T> = Record<string, { summary: string; value: T }>;

/**
 * A request body in each form it is accepted: JSON, or a form (urlencoded or
 * multipart). One schema for all three, the one readBody validates with.
 */
export function bodyOf<S extends z.ZodType>(schema: S, examples: Examples<z.input<S>>) {
  const media = { schema, examples };
  return {
    required: true,
    content: { "application/json": media, "application/x-www-form-urlencoded": media, "multipart/form-data": media },
  };
}

/** A JSON response: its schema (what the handler returns), examples and headers. */
export function jsonResponse<S extends z.ZodType>(description: string, schema: S, examples: Examples<z.output<S>>, headers?: z.ZodRawShape) {
  return { description, headers: withRequestId(headers), content: { "application/json": { schema, examples } } };
}

/** The API routes need a Bearer key (the scheme is registered in openapi.ts). */
export const apiKeySecurity = [{ apiKey: [] }];
/** No credentials: health, documentation, and the webhooks (checked by their signature instead). */
export const publicRoute: Array<Record<string, string[]>> = [];
