import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { newSecret } from "../src/events/signature.js";
import { createKey, revokeKey } from "../src/keys/api-keys.js";
import { ADMIN_KEY, openBrowser, startPagesService } from "../test/helpers/pages.js";
import { codeHeard } from "../test/helpers/service.js";

/**
 * `npm run screenshots`: docs/demo.png and docs/admin.png, the README's pictures of the two
 * pages. It starts the service as `npm start` does (the simulator), gives it a week of made-up
 * traffic (the clock set back a day at a time; some lines busy, unanswered or a voicemail; a
 * resend refused by the cooldown; a webhook receiver that refuses one kind of event), then
 * drives the pages in Chromium as the browser tests do.
 */

const DAY_MS = 86_400_000;
const BUSY = "+14155550171";
const NO_ANSWER = "+13125550172";
const VOICEMAIL = "+16135550173";
const US = ["+14155550123", "+12125550142", "+13125550199", "+14155550160", "+12065550134", "+17185550145"];
const CA = ["+16135550123", "+16045550188", "+14165550111"];

// The service's clock runs with real time, shifted back while a past day is being made.
let offset = 0;
const clock = { now: () => new Date(Date.now() + offset) };

// The backend's event receiver: it takes every event but call.unanswered, which it answers 503 (retried).
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk: Buffer) => (body += chunk.toString()));
  req.on("end", () => res.writeHead((JSON.parse(body) as { type: string }).type === "call.unanswered" ? 503 : 200).end());
});
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));

const service = await startPagesService(
  {
    SIMULATOR_OUTCOMES: `${BUSY}=busy,${NO_ANSWER}=no-answer,${VOICEMAIL}=voicemail`,
    WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/voice-otp-events`,
    WEBHOOK_SECRET: newSecret(),
    CALLS_PER_IP_PER_HOUR: "100",
  },
  // PGlite, as `npm start`: no database server needed.
  { clock, pglite: true },
);
const json = { "content-type": "application/json" };
const post = (path: string, body: unknown) => fetch(`${service.url}${path}`, { method: "POST", headers: json, body: JSON.stringify(body) });

/** One call as a backend makes it; answered calls are approved unless `abandon`. */
async function verification(number: string, abandon = false): Promise<void> {
  const res = await post("/request-auth", { number });
  if (res.status !== 201) return; // a refusal: counted in the statistics
  const { id } = (await res.json()) as { id: string };
  const call = await service.simulator!.waitForCall((c) => c.url.endsWith(`c=${id}`), { timeoutMs: 20_000 });
  if (abandon || !call.heard.some((h) => /your code is/i.test(h))) return;
  await post("/validate-auth", { id, auth_code: codeHeard(call.heard) });
}

const browser = await openBrowser();
try {
  // A second service, and keys for both, for the page's "Services and keys".
  const staff = await fetch(`${service.url}/services`, {
    method: "POST",
    headers: { ...json, authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ name: "staff", settings: { org_name: "Acme Staff", code_length: 8 } }),
  });
  const { id: staffId } = (await staff.json()) as { id: string };
  const database = service.deps.database;
  for (const [name, serviceId] of [["web-backend", undefined], ["old-backend", undefined], ["staff-portal", staffId]] as const) {
    await createKey(database, name, { serviceId, now: new Date(Date.now() - 8 * DAY_MS) });
  }
  await revokeKey(database, "old-backend", new Date(Date.now() - 2 * DAY_MS));

  // A week of traffic, oldest day first: the clock set back whole days.
  for (let day = 6; day >= 1; day--) {
    offset = -day * DAY_MS;
    const pick = (list: string[], n: number) => list.filter((_, i) => (i + day) % 3 !== 0).slice(0, n);
    const numbers = [...pick(US, 2 + (day % 4)), ...pick(CA, day % 3)];
    if (day % 2 === 0) numbers.push(BUSY);
    if (day % 3 === 0) numbers.push(NO_ANSWER);
    if (day === 4) numbers.push(VOICEMAIL);
    await Promise.all(numbers.map((n, i) => verification(n, i === 1 && day % 2 === 1)));
    // A second call to a number that just had one: refused by the resend cooldown.
    if (day % 2 === 1) await post("/request-auth", { number: numbers[0] });
  }
  offset = 0;
  await Promise.all([verification(US[1]!), verification(CA[0]!), verification(BUSY)]);
  service.dispatcher.kick();

  const demo = await browser.context.newPage();
  await demo.setViewportSize({ width: 760, height: 900 });
  await demo.goto(`${service.url}/demo`);
  await demo.fill("#number", "+14155550123");
  await demo.click("#call-button");
  await demo.locator('#progress li[data-status="completed"].done').waitFor();
  const code = (await demo.locator("#heard strong").first().textContent())!.replace(/\D/g, "");
  await demo.fill("#code", code);
  await demo.click("#check-button");
  await demo.locator("#step-result").waitFor();
  await demo.screenshot({ path: "docs/demo.png", fullPage: true });

  service.dispatcher.kick();
  await new Promise((r) => setTimeout(r, 1500));
  const admin = await browser.context.newPage();
  await admin.goto(`${service.url}/admin`);
  await admin.fill("#admin-key", ADMIN_KEY);
  await admin.click("#sign-in-button");
  await admin.locator("#console").waitFor();
  await admin.waitForFunction(() => "calls" in (globalThis as unknown as { voiceOtpCharts: object }).voiceOtpCharts);
  await admin.locator("#services tbody tr").first().waitFor();
  await admin.screenshot({ path: "docs/admin.png", fullPage: true });

  if (browser.errors.length) throw new Error(`the pages logged errors:\n${browser.errors.join("\n")}`);
  console.log("wrote docs/demo.png and docs/admin.png");
} finally {
  await browser.close();
  await service.close(2000, 0);
  receiver.close();
  receiver.closeAllConnections();
}
// As src/server.ts does after its shutdown: the service closed, nothing is left to wait for.
process.exit(0);
