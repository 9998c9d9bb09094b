import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { Agent, request } from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { serveParent } from "./processes.js";

/**
 * The references: what a route costs with nothing around it. A bare Hono app on the
 * same server adapter, with the same driver and pool size as the service.
 *
 * /validate-auth parses the same JSON body and runs one UPDATE … RETURNING on a copy
 * of the challenges table (same columns and indexes). No API key, no rate window, no
 * code check.
 *
 * /request-auth is the least that placing a call takes: one INSERT, the carrier's
 * create-call request (to the same simulator, with the same form fields, over a
 * kept-alive agent with as many sockets as the service's), one UPDATE noting the
 * call's sid; /call-status writes the status a callback brings. No API key, number
 * parsing, limit, code, sealing or signature check.
 */
const sql = postgres(process.env.DATABASE_URL!, { max: Number(process.env.POOL_SIZE ?? 10), onnotice: () => {} });
const carrier = new URL(process.env.SIM_URL!);
const account = process.env.SIM_ACCOUNT_SID!;
const basic = `Basic ${Buffer.from(`${account}:${process.env.SIM_AUTH_TOKEN}`).toString("base64")}`;
const agent = new Agent({ keepAlive: true, maxSockets: 512, timeout: 30_000 });
let base = "";

function createCall(to: string, id: string): Promise<{ sid: string; status: string }> {
  const form = new URLSearchParams({
    To: to,
    From: "+15005550006",
    Url: `${base}/call-2fa?c=${id}`,
    StatusCallback: `${base}/call-status?c=${id}`,
    StatusCallbackEvent: "ringing",
  }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: carrier.hostname,
        port: carrier.port,
        method: "POST",
        path: `/2010-04-01/Accounts/${account}/Calls.json`,
        headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(form) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => {
          if (res.statusCode !== 201) reject(new Error(`create-call answered ${res.statusCode}: ${text}`));
          else resolve(JSON.parse(text) as { sid: string; status: string });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(form);
  });
}

const app = new Hono();
app.post("/validate-auth", async (c) => {
  const body = await c.req.json<{ number?: unknown }>().catch(() => null);
  if (typeof body?.number !== "string") return c.json({ error: "number is required" }, 400);
  const [row] = await sql<{ id: string; attempts: number }[]>`
    update reference_challenges set attempts = attempts + 1
    where number = ${body.number} and status = 'pending'
    returning id, attempts`;
  return row ? c.json({ status: "counted", id: row.id, attempts: row.attempts }, 200) : c.json({ status: "denied" }, 403);
});
/** Requests to /request-auth not yet answered: the benchmark waits for none before its next run. */
let placing = 0;
app.use("/request-auth", async (_c, next) => {
  placing++;
  try {
    await next();
  } finally {
    placing--;
  }
});
app.post("/request-auth", async (c) => {
  const body = await c.req.json<{ number?: unknown }>().catch(() => null);
  if (typeof body?.number !== "string") return c.json({ error: "number is required" }, 400);
  const [row] = await sql<{ id: string }[]>`insert into reference_calls (number, status) values (${body.number}, 'pending') returning id`;
  try {
    const call = await createCall(body.number, row!.id);
    await sql`update reference_calls set call_sid = ${call.sid}, call_status = ${call.status} where id = ${row!.id}`;
  } catch (err) {
    return c.json({ error: (err as Error).message }, 502);
  }
  return c.json({ id: row!.id, number: body.number, status: "pending" }, 201);
});
app.post("/call-status", async (c) => {
  const form = await c.req.parseBody();
  await sql`update reference_calls set call_status = ${String(form.CallStatus)} where id = ${c.req.query("c") ?? ""}`;
  return c.body(null, 204);
});

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise((resolve) => server.once("listening", resolve));
base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
serveParent({ placing: () => placing }, async () => {
  server.close();
  agent.destroy();
  await sql.end({ timeout: 2 });
});
process.send!({ type: "ready", url: base, pid: process.pid });
