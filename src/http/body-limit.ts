import type { Context, MiddlewareHandler, Next } from "hono";
import { bodyLimit as streamingBodyLimit } from "hono/body-limit";
import { AppError, sendError } from "./errors.js";

/**
 * Refuses bodies over maxBytes with 413. A request that declares its length is judged
 * by the header alone (Node's parser never reads past it), which leaves its body to
 * @hono/node-server's fast path straight from the socket; only a chunked body is
 * counted as it streams. Hono's own bodyLimit turns every request, bodiless GETs
 * included, into a web-streams Request first: about a seventh of a validation's CPU.
 */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  const tooLarge = (c: Context) => sendError(c, new AppError("payload_too_large", `request body is over ${maxBytes / 1024} KB`));
  const streaming = streamingBodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c: Context, next: Next) => {
    if (c.req.header("transfer-encoding") !== undefined) return streaming(c, next);
    const length = c.req.header("content-length");
    // Without either header an HTTP/1.1 request has no body.
    if (length !== undefined && Number(length) > maxBytes) return tooLarge(c);
    await next();
  };
}
