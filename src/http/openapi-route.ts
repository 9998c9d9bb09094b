import { z } from "zod";

/**
 * Pieces the route declarations share (each route is declared with @hono/zod-openapi's
 * createRoute() next to its handler): the request-id header, bodies, responses, security.
 */

/** Every response carries its request's id. */
export const requestIdHeader = z.string().meta({
  description: "This request's id: the caller's X-Request-Id when it is 1-128 letters, digits, `_`, `-` or `=`, else a generated UUID. Its log line carries the same id.",
});

export const withRequestId = (headers: z.ZodRawShape = {}) => z.object({ "X-Request-Id": requestIdHeader, ...headers });

/** The request header that sets the request id (all routes). */
export const requestIdParam = z.string().optional().meta({
  param: { example: "signin-7f3a9c" },
  description: "Your id for this request, echoed in X-Request-Id and the service's log when it is 1-128 letters, digits, `_`, `-` or `=`.",
});

type Examples<T> = Record<string, { summary: string; value: T }>;

/**
 * A request body in each form it is accepted: JSON, or a form (urlencoded or
 * multipart). One schema for all three: the route's validators check whichever was
 * sent (not `required`, which would run the JSON validator on a form too), and
 * sentBody() refuses a request with neither.
 */
export function bodyOf<S extends z.ZodType>(schema: S, examples: Examples<z.input<S>>) {
  const media = { schema, examples };
  return {
    required: false,
    content: { "application/json": media, "application/x-www-form-urlencoded": media, "multipart/form-data": media },
  };
}

/** A JSON response: its schema (what the handler returns), examples and headers. */
export function jsonResponse<S extends z.ZodType>(description: string, schema: S, examples: Examples<z.output<S>>, headers?: z.ZodRawShape) {
  return { description, headers: withRequestId(headers), content: { "application/json": { schema, examples } } };
}

/** The API routes need a Bearer key (the scheme is registered in openapi.ts). */
export const apiKeySecurity = [{ apiKey: [] }];
/** The admin API (/services) needs an admin key, another kind of Bearer key. */
export const adminKeySecurity = [{ adminKey: [] }];
/** No credentials: health, documentation, and the webhooks (checked by their signature instead). */
export const publicRoute: Array<Record<string, string[]>> = [];
