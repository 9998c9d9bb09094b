import { randomUUID } from "node:crypto";
import type { IncomingMessage, RequestListener } from "node:http";
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

/** The client's X-Request-Id when Hono's requestId middleware would echo it, else a new one. */
function requestIdOf(req: IncomingMessage | undefined): string {
  return echoable(req?.headers["x-request-id"]) ?? randomUUID();
}

const echoable = (given: unknown) => (typeof given === "string" && /^[\w=-]{1,128}$/.test(given) ? given : undefined);

/** The X-Request-Id in the bytes the parser refused (its error's rawPacket), when it appears once in the head. */
function requestIdIn(raw: Buffer | undefined): string | undefined {
  if (!raw) return undefined;
  const head = raw.toString("latin1").split("\r\n\r\n")[0]!;
  const found = [...head.matchAll(/\r\nx-request-id:[ \t]*([^\r\n]*?)[ \t]*(?=\r\n|$)/gi)];
  return found.length === 1 ? echoable(found[0]![1]) : undefined;
}

/**
 * The request the adapter is building. It throws, and calls its errorHandler, before its
 * first await: the handler reads this synchronously, within the same listener call.
 */
let building: IncomingMessage | undefined;

/** What these refusals say: none of it is said by the app, so a client (or a test) can tell nothing ran. */
export const BEFORE_THE_APP = {
  host: "the Host header is not a valid host[:port]; nothing was done",
  noHost: "send a Host header (HTTP/1.1 requires one); nothing was done",
  backslash: "the request path holds a backslash; nothing was done",
  target: "the request target is not a valid path; nothing was done",
  http: "the request is not valid HTTP/1.1; nothing was done",
  tooLarge: "the request line and headers are over 16 KB; nothing was done",
  timeout: "the request did not arrive in time (HTTP_HEADERS_TIMEOUT_SECONDS, HTTP_REQUEST_TIMEOUT_SECONDS); nothing was done",
} as const;

/** Whether an answer's body is one of these refusals. */
export const refusedBeforeTheApp = (message: unknown) => (Object.values(BEFORE_THE_APP) as unknown[]).includes(message);

const HEADERS = { "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer" };

function refusal(err: { code?: string }): { code: ErrorCode; message: string } {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return { code: "headers_too_large", message: BEFORE_THE_APP.tooLarge };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { code: "request_timeout", message: BEFORE_THE_APP.timeout };
    default:
      return { code: "invalid_request", message: BEFORE_THE_APP.http };
  }
}

/** server.on("clientError"): the JSON refusal, written to the socket, which then closes. */
export function answerClientError(logger: Logger) {
  return (err: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex) => {
    const message = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    // A reset or a response already under way: nothing can be said any more.
    if (err.code === "ECONNRESET" || !socket.writable || message?.headersSent) {
      socket.destroy();
      return;
    }
    const { code, message: text } = refusal(err);
    const status = ERRORS[code];
    const requestId = requestIdIn(err.rawPacket) ?? randomUUID();
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
    if (req.httpVersion !== "1.1" || req.headers.host !== undefined) {
      building = req;
      try {
        return listener(req, res);
      } finally {
        building = undefined;
      }
    }
    const body = JSON.stringify(errorBody("invalid_request", BEFORE_THE_APP.noHost));
    res.writeHead(400, { ...HEADERS, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), "X-Request-Id": requestIdOf(req), Connection: "close" });
    res.end(body);
  };
}

/** The adapter's errorHandler: a request it could not build (a malformed or missing Host) is a 400 in the error shape. */
export function requestErrorResponse(logger: Logger) {
  return (err: unknown) => {
    const requestId = requestIdOf(building);
    const isRequestError = err instanceof Error && err.name === "RequestError";
    if (!isRequestError) logger.error({ err, reqId: requestId }, "unhandled error before the app");
    const [code, message]: [ErrorCode, string] = isRequestError
      ? ["invalid_request", /host/i.test((err as Error).message) ? BEFORE_THE_APP.host : /backslash/i.test((err as Error).message) ? BEFORE_THE_APP.backslash : BEFORE_THE_APP.target]
      : ["internal_error", "internal error; the service logged the details"];
    return Response.json(errorBody(code, message), { status: ERRORS[code], headers: { ...HEADERS, "X-Request-Id": requestId } });
  };
}
