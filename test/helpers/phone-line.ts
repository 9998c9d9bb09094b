import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Outcome, Simulator } from "../../src/simulator/index.js";
import { codeHeard } from "./service.js";

/**
 * The simulator's phones over HTTP on 127.0.0.1, for tests written in another language
 * (the Python client's): what the phone heard on a challenge's call, and what a number's
 * phone does next. A test fixture only: the service says a code nowhere but on the call.
 *
 *   GET /heard/{challenge id}  → 200 {"code": "471903"} once the call has ended; 404 if none came or it heard no code
 *   PUT /phones/{number}        body: an outcome's name → 204; the number's phone does that from now on
 */
export interface PhoneLine {
  url: string;
  close(): Promise<void>;
}

export async function startPhoneLine(simulator: Simulator, outcomes: Record<string, Outcome>): Promise<PhoneLine> {
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { "content-type": "application/json" });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const [, kind, rawKey] = /^\/(heard|phones)\/([^/?]+)$/.exec(req.url ?? "") ?? [];
    const key = rawKey === undefined ? "" : decodeURIComponent(rawKey);
    if (req.method === "GET" && kind === "heard") {
      simulator
        .waitForCall((c) => c.url.endsWith(`c=${key}`))
        .then((call) => codeHeard(call.heard))
        .then(
          (code) => reply(200, { code }),
          (err: Error) => reply(404, { error: err.message }),
        );
      return;
    }
    if (req.method === "PUT" && kind === "phones") {
      let name = "";
      req.on("data", (d: Buffer) => (name += d.toString()));
      req.on("end", () => {
        const outcome = outcomes[name.trim()];
        if (!outcome) return reply(400, { error: `no outcome named ${JSON.stringify(name)}; known: ${Object.keys(outcomes).join(", ")}` });
        simulator.setOutcome(key, outcome);
        reply(204);
      });
      return;
    }
    reply(404, { error: "GET /heard/{challenge id} or PUT /phones/{number}" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
