import http from "node:http";
import net from "node:net";

/**
 * HTTP requests exactly as written, for tests that send what fetch refuses to:
 * any method and request target, repeated or odd headers (latin1 bytes, no
 * automatic Host), a body with Content-Length or chunked without one.
 */
export interface RawRequest {
  method: string;
  /** The request target as sent: not normalised, not encoded. */
  target: string;
  /** In order; a name may repeat. Host is not added: include it. */
  headers: Array<[string, string]>;
  body?: Buffer;
  /** Send the body as these pieces with Transfer-Encoding: chunked and no Content-Length. */
  chunks?: Buffer[];
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  ms: number;
}

/** Sends one request on its own connection; rejects when no answer arrives within timeoutMs. */
export function sendRaw(base: string, req: RawRequest, timeoutMs = 10_000): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const headers: string[] = [];
    for (const [k, v] of req.headers) headers.push(k, v);
    if (req.chunks) headers.push("Transfer-Encoding", "chunked");
    else if (req.body) headers.push("Content-Length", String(req.body.length));
    let answered = false;
    const client = http.request(
      { host: hostname, port, method: req.method, path: req.target, headers, setHost: false, agent: false },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        const done = () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started });
        };
        res.on("end", done);
        // The service may cut the connection once it has answered (a body it will not read).
        res.on("aborted", done);
        res.on("error", done);
      },
    );
    const timer = setTimeout(() => {
      client.destroy();
      reject(new Error(`no answer to ${req.method} ${req.target.slice(0, 200)} within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on("error", (err) => {
      // A write into a connection the service closed after answering is not a failure to answer.
      if (answered) return;
      clearTimeout(timer);
      reject(err);
    });
    if (req.chunks) {
      for (const c of req.chunks) if (c.length) client.write(c);
      client.end();
    } else {
      client.end(req.body);
    }
  });
}

export interface RawExchange {
  /** The status of the first response, when one arrived. */
  status?: number;
  /** Everything the service wrote before closing (or before the quiet period ended). */
  text: string;
}

/**
 * Writes bytes to the service's socket as they are (malformed framing, garbage),
 * half-closes, and collects what comes back until the connection closes.
 */
export function sendBytes(base: string, bytes: Buffer, timeoutMs = 10_000): Promise<RawExchange> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the connection stayed open ${timeoutMs} ms after ${JSON.stringify(bytes.toString("latin1").slice(0, 200))}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : undefined, text });
    };
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("close", finish);
    socket.on("error", () => {}); // a reset after garbage is an answer too; close follows
    socket.on("connect", () => socket.end(bytes));
  });
}
