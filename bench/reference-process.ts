import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { serveParent } from "./processes.js";

/**
 * The reference: what one validation costs with nothing around it. A bare Hono app
 * on the same server adapter, the same driver and pool size as the service, parsing
 * the same JSON body and running one UPDATE … RETURNING on a copy of the challenges
 * table (same columns and indexes). No API key, no rate window, no code check.
 */
const sql = postgres(process.env.DATABASE_URL!, { max: Number(process.env.POOL_SIZE ?? 10), onnotice: () => {} });
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

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise((resolve) => server.once("listening", resolve));
serveParent({}, async () => {
  server.close();
  await sql.end({ timeout: 2 });
});
process.send!({ type: "ready", url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pid: process.pid });
