import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "./errors.js";

/**
 * Reads a request body sent as JSON or as a form (the original SignalWire
 * example posts forms), and validates it against the route's schema.
 */
export async function readBody<S extends z.ZodTypeAny>(c: Context, schema: S): Promise<z.infer<S>> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  let raw: unknown;
  if (type === "application/json" || type.endsWith("+json")) {
    try {
      raw = await c.req.json();
    } catch {
      throw new AppError("invalid_request", "body is not valid JSON");
    }
  } else if (type === "application/x-www-form-urlencoded" || type === "multipart/form-data") {
    try {
      raw = await c.req.parseBody();
    } catch {
      throw new AppError("invalid_request", "body is not a valid form");
    }
  } else {
    throw new AppError(
      "unsupported_media_type",
      "send the body as application/json or application/x-www-form-urlencoded",
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join(".");
    throw new AppError("invalid_request", field ? `${field}: ${issue.message}` : issue.message, {
      field: field || undefined,
    });
  }
  return parsed.data;
}
