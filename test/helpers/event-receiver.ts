import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/**
 * A backend receiving event webhooks on 127.0.0.1, as a user's would: it records each
 * delivery, answers what the test says, and notices an event that arrives while another
 * delivery of the same event is still in flight (two senders at the same moment).
 */

export interface Delivery {
  id: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The sender's clock when it arrived (the test's manual clock), for the oracle's timestamp check. */
  at: number;
}

/** A status to answer, or "hang": never answer (the sender's timeout ends it). */
export type Answer = number | "hang";

export interface Receiver {
  url: string;
  port: number;
  deliveries: Delivery[];
  /** Event ids that arrived while a delivery of the same id was in flight. */
  overlaps: string[];
  /** The most requests it held at once. */
  maxConcurrent(): number;
  answer: (d: Delivery) => Answer | Promise<Answer>;
  close(): Promise<void>;
}

export async function startReceiver(opts: { port?: number; now?: () => number; answer?: Receiver["answer"] } = {}): Promise<Receiver> {
  const now = opts.now ?? Date.now;
  const inFlight = new Map<string, number>();
  let concurrent = 0;
  let most = 0;
  const server: Server = createServer((req, res) => {
    const id = String(req.headers["webhook-id"]);
    concurrent++;
    most = Math.max(most, concurrent);
    if (inFlight.get(id)) receiver.overlaps.push(id);
    inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      concurrent--;
      inFlight.set(id, inFlight.get(id)! - 1);
    };
    res.on("close", end);
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", async () => {
      const delivery = { id, headers: req.headers, body, at: now() };
      receiver.deliveries.push(delivery);
      const answer = await receiver.answer(delivery);
      if (answer === "hang") return;
      // The answer ends this delivery as the sender sees it; count it done before writing.
      end();
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hooks/voice-otp`,
    port,
    deliveries: [],
    overlaps: [],
    maxConcurrent: () => most,
    answer: opts.answer ?? (() => 200),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return receiver;
}

/**
 * What the `standardwebhooks` reference library makes of a delivery, as a receiver whose
 * clock reads `at` would check it (the library compares the timestamp with Date.now()).
 */
export function verifyDelivery(secret: string, d: Pick<Delivery, "headers" | "body" | "at">): unknown {
  const headers = Object.fromEntries(
    ["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) => [name, String(d.headers[name] ?? "")]),
  );
  const realNow = Date.now;
  Date.now = () => d.at;
  try {
    return new Webhook(secret).verify(d.body, headers);
  } finally {
    Date.now = realNow;
  }
}
