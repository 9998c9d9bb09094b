import type { Context } from "hono";
import { AppError } from "./errors.js";

/**
 * Which body the route's validators checked: JSON or a form. Without a Content-Type
 * they checked neither (zod-openapi lets a bodiless request through an optional body),
 * so such a request is refused here.
 */
export function sentBody(c: Context): "json" | "form" {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (/^application\/([\w.-]+\+)?json$/.test(type)) return "json";
  if (type === "application/x-www-form-urlencoded" || type === "multipart/form-data") return "form";
  throw new AppError("unsupported_media_type", "send the body as application/json or application/x-www-form-urlencoded");
}
