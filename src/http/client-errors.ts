import { randomUUID } from "node:crypto";
import type { RequestListener } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { ERRORS, errorBody, type ErrorCode } from "./errors.js";

/**
 * The answers given before a request reaches the app: Node's HTTP parser refusing the
 * bytes ('clientError': malformed framing, a head over 16 KB, a request that took too
 * long) and @hono/node-server refusing to build the request (a malformed Host). Node
 * and the adapter answer those with a bare status line; here they get the error shape,
 * an X-Request-Id and the headers every other answer carries.
 */

const HEADERS = { "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer" };

function refusal(err: { code?: string }): { code: ErrorCode; message: string } {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return { code: "headers_too_large", message: "the request line and headers are over 16 KB" };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { code: "request_timeout", message: "the request did not arrive in time (HTTP_HEADERS_TIMEOUT_SECONDS, HTTP_REQUEST_TIMEOUT_SECONDS)" };
    default:
      return { code: "invalid_request", message: "the request is not valid HTTP/1.1" };
  }
}

/** server.on("clientError"): the JSON refusal, written to the socket, which then closes. */
export function answerClientError(logger: Logger) {
  return (err: Error & { code?: string }, socket: Duplex) => {
    const message = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    // A reset or a response already under way: nothing can be said any more.
    if (err.code === "ECONNRESET" || !socket.writable || message?.headersSent) {
      socket.destroy();
      return;
    }
    const { code, message: text } = refusal(err);
    const status = ERRORS[code];
    const requestId = randomUUID();
    logger.info({ reqId: requestId, status, parser: err.code }, "request refused by the HTTP parser");
    const body = JSON.stringify(errorBody(code, text));
    const head = [
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Bad Request"}`,
      "Content-Type: application/json",
      `Content-Length: ${Buffer.byteLength(body)}`,
      `X-Request-Id: ${requestId}`,
      ...Object.entries(HEADERS).map(([k, v]) => `${k}: ${v}`),
      "Connection: close",
    ];
    socket.end(`${head.join("\r\n")}\r\n\r\n${body}`, () => socket.destroy());
  };
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large" };

/**
 * HTTP/1.1 without a Host header (RFC 9112 §3.2: a 400). Node's own check answers it with a
 * bare status line, so the server turns that check off (requireHostHeader) and asks this.
 */
export function withHostRequired(listener: RequestListener): RequestListener {
  return (req, res) => {
    if (req.httpVersion !== "1.1" || req.headers.host !== undefined) return listener(req, res);
    const body = JSON.stringify(errorBody("invalid_request", "send a Host header (HTTP/1.1 requires one)"));
    res.writeHead(400, { ...HEADERS, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), "X-Request-Id": randomUUID(), Connection: "close" });
    res.end(body);
  };
}

/** The adapter's errorHandler: a request it could not build (a malformed or missing Host) is a 400 in the error shape. */
export function requestErrorResponse(logger: Logger) {
  return (err: unknown) => {
    const requestId = randomUUID();
    const isRequestError = err instanceof Error && err.name === "RequestError";
    if (!isRequestError) logger.error({ err, reqId: requestId }, "unhandled error before the app");
    const [code, message]: [ErrorCode, string] = isRequestError
      ? ["invalid_request", /host/i.test((err as Error).message) ? "the Host header is not a valid host name" : /backslash/i.test((err as Error).message) ? "the request path holds a backslash" : "the request target is not a valid path"]
      : ["internal_error", "internal error; the service logged the details"];
    return Response.json(errorBody(code, message), { status: ERRORS[code], headers: { ...HEADERS, "X-Request-Id": requestId } });
  };
}
