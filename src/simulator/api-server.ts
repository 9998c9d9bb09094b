import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ApiFailure, CallRequest, CarrierFlavor } from "./flavor.js";
import type { AnsweringOutcome, CallRecord, Outcome } from "./types.js";

/**
 * The carrier's REST API over real HTTP: create a call, fetch a call. The flavor reads
 * and writes the carrier's formats; here is only what every carrier's API does, and
 * what the scripted Outcome makes of the create-call answer.
 */

const BODY_LIMIT = 64 * 1024;

export interface ApiHandlers {
  /** A valid create-call request arrived for `to`: what the phone there does. */
  requested(to: string): Outcome;
  /** The call was created and the API's answer sent: play it from here. */
  created(call: CallRecord, outcome: AnsweringOutcome): void;
  find(sid: string): CallRecord | undefined;
}

export interface ApiServer {
  url: string;
  /** Cuts the create-call requests left unanswered (Outcome `api-timeout`). */
  cutHeld(): void;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { ...headers, "Content-Type": "application/json" }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > BODY_LIMIT) return reject(new Error("body too large"));
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function newCall(sid: string, request: CallRequest): CallRecord {
  return {
    sid,
    ...request,
    status: "queued",
    heard: [],
    keysPressed: [],
    events: [{ status: "queued", at: new Date() }],
    requests: [],
    webhookErrors: [],
    ended: false,
  };
}

export async function startApiServer(
  flavor: CarrierFlavor,
  handlers: ApiHandlers,
  listen: { host: string; port: number },
): Promise<ApiServer> {
  const held = new Set<Socket>();
  const apiError = (res: ServerResponse, failure: ApiFailure) => sendJson(res, failure.status, flavor.errorBody(failure), failure.headers);

  async function createCall(req: IncomingMessage, res: ServerResponse) {
    const read = flavor.readCreateCall(await readBody(req));
    if ("refused" in read) return apiError(res, read.refused);
    const { request } = read;

    const outcome = handlers.requested(request.to);
    switch (outcome.kind) {
      case "api-error": {
        const { kind: _, ...failure } = outcome;
        return apiError(res, failure);
      }
      case "api-malformed":
        res.writeHead(502, { "Content-Type": "text/html" }).end("<html><body><h1>502 Bad Gateway</h1></body></html>");
        return;
      case "api-timeout":
        held.add(req.socket); // never answered; cut when the simulator closes
        return;
    }
    if (outcome.apiDelayMs) await new Promise((r) => setTimeout(r, outcome.apiDelayMs));

    const call = newCall(flavor.newSid(), request);
    sendJson(res, flavor.createdStatus, flavor.resource(call));
    handlers.created(call, outcome);
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const route = flavor.route(path);
    if (!route) return apiError(res, flavor.failures.notFound(path));
    if (!flavor.authorized(req.headers, route)) return apiError(res, flavor.failures.unauthenticated);
    if (route.op === "create-call" && req.method === "POST") {
      createCall(req, res).catch((err) => {
        if (!res.headersSent) apiError(res, flavor.failures.badRequest((err as Error).message));
      });
      return;
    }
    if (route.op === "fetch-call" && req.method === "GET") {
      const call = handlers.find(route.sid);
      return call ? sendJson(res, 200, flavor.resource(call)) : apiError(res, flavor.failures.notFound(path));
    }
    return apiError(res, flavor.failures.methodNotAllowed);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    cutHeld() {
      for (const socket of held) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
