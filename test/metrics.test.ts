import { afterEach, describe, expect, it } from "vitest";
import { API_ERRORS } from "./helpers/api-errors.js";
import { codeHeard, startTestService, type TestService } from "./helpers/service.js";
import { callParams, postWebhook } from "./helpers/webhooks.js";

/** The value of one sample in Prometheus text format, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    const m = /^([\w:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

describe("metrics", () => {
  let t: TestService | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("counts calls, outcomes, validations, refusals and request durations in Prometheus format", async () => {
    t = await startTestService({ db: "pglite", carrier: "twilio", env: { METRICS_TOKEN: "metrics-token-0123456789" } });
    const res = await t.api("POST", "/request-auth", { number: "+12125550170" });
    const call = await t.simulator.waitForCall({ to: "+12125550170" });
    const code = codeHeard(call.heard);
    await t.api("POST", "/validate-auth", { id: res.body.id, auth_code: code.replace(/^\d/, (d) => String((+d + 1) % 10)) });
    await t.api("POST", "/validate-auth", { id: res.body.id, auth_code: code });
    await t.api("POST", "/request-auth", { number: "+12125550170" }); // resend cooldown
    t.simulator.setOutcome("+12125550171", API_ERRORS.invalidNumber);
    await t.api("POST", "/request-auth", { number: "+12125550171" });
    await postWebhook(t, `/call-status?c=${res.body.id}`, callParams(t, call), { sign: false });

    expect((await t.api("GET", "/metrics", undefined, { key: null })).status).toBe(401);
    const scrape = await t.api("GET", "/metrics", undefined, { key: "metrics-token-0123456789" });
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = scrape.text;
    expect(sample(m, "voice_otp_calls_requested_total", { carrier: "twilio" })).toBe(2);
    expect(sample(m, "voice_otp_calls_placed_total", { carrier: "twilio" })).toBe(1);
    expect(sample(m, "voice_otp_calls_failed_total", { carrier: "twilio", failure: "rejected" })).toBe(1);
    for (const status of ["ringing", "in-progress", "completed"]) {
      expect(sample(m, "voice_otp_call_status_events_total", { status }), status).toBe(1);
    }
    expect(sample(m, "voice_otp_validations_total", { result: "incorrect" })).toBe(1);
    expect(sample(m, "voice_otp_validations_total", { result: "approved" })).toBe(1);
    expect(sample(m, "voice_otp_limit_refusals_total", { limit: "resend_cooldown" })).toBe(1);
    expect(sample(m, "voice_otp_webhook_refusals_total", { webhook: "/call-status" })).toBe(1);
    expect(
      sample(m, "voice_otp_http_request_duration_seconds_count", { method: "POST", route: "/validate-auth", status: "403" }),
    ).toBe(1);
    expect(sample(m, "voice_otp_http_request_duration_seconds_count", { method: "POST", route: "/call-2fa", status: "200" })).toBe(1);
    expect(sample(m, "voice_otp_process_resident_memory_bytes")).toBeGreaterThan(0);
    // Bounded labels only: no number, challenge id or code in any label.
    const labels = [...m.matchAll(/\{([^}]*)\}/g)].map((x) => x[1]).join("\n");
    for (const secret of ["5550170", res.body.id, code]) expect(labels).not.toContain(secret);
  });

  it("serves /metrics without a token when METRICS_TOKEN is unset", async () => {
    t = await startTestService({ db: "pglite", carrier: "twilio" });
    const scrape = await t.api("GET", "/metrics", undefined, { key: null });
    expect(scrape.status).toBe(200);
    expect(scrape.text).toContain("# TYPE voice_otp_http_request_duration_seconds histogram");
  });
});
