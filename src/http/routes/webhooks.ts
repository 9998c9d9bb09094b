import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppDeps, AppEnv } from "../env.js";
import type { CallEvent, WebhookRequest } from "../../carriers/carrier.js";
import { SIGNATURE_HEADERS } from "../../carriers/registry.js";
import { recordCallEvent, recordedAnsweredBy, recordMachine } from "../../otp/call-events.js";
import { codeToSpeak } from "../../otp/challenges.js";
import type { ServiceSettings } from "../../services/settings.js";
import { codeScript, gateScript, machineScript, noKeyScript, openingScript, unavailableScript } from "../../voice/script.js";
import type { VoiceScript } from "../../voice/script.types.js";
import { AppError } from "../errors.js";
import { readForm } from "../form.js";
import { publicRequestUrls } from "../public-url.js";
import { challengeId } from "../schemas.js";
import { callStatusRoute, voiceRoute, webhookForm } from "./webhooks.openapi.js";

const GATE_TRIES = 3;

/**
 * The carrier's webhooks. Nothing here is answered before the signature checks out, and
 * nothing here reads a carrier's fields: the carrier turns the request into a CallEvent.
 */
export function webhookRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();

  async function verified(c: Context<AppEnv>): Promise<CallEvent> {
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/x-www-form-urlencoded|^multipart\/form-data/i.test(type)) {
      throw new AppError("unsupported_media_type", "carrier webhooks are form posts");
    }
    // Some carriers sign the bytes of the body; readForm reads the same text again (Hono keeps it).
    const rawBody = await c.req.text();
    // Every value of a repeated key is signed, so every value must be kept.
    // A malformed multipart body (no boundary, cut short) makes the parser throw: the sender's fault.
    const params = await readForm(c).catch(() => {
      throw new AppError("invalid_request", "the form body could not be parsed");
    });
    // A URL-encoded form holds text and nothing else; a multipart one may hold files.
    if (/^multipart/i.test(type) && !webhookForm.safeParse(params).success) {
      throw new AppError("invalid_request", "carrier webhooks carry text fields only");
    }
    // The carriers' signature headers (the registry lists them): all a carrier reads of the headers.
    const headers: WebhookRequest["headers"] = {};
    for (const name of SIGNATURE_HEADERS) headers[name] = c.req.header(name);
    // With TRUST_PROXY, the URL the proxy reports and then PUBLIC_BASE_URL's: a signature over either will do.
    const request = publicRequestUrls(c, deps.publicBaseUrl(), deps.config.trustProxy)
      .map((url): WebhookRequest => ({ url, method: c.req.method, rawBody, params, headers }))
      .find((candidate) => deps.carrier.verifyWebhook(candidate));
    if (!request) {
      c.get("log").warn("webhook refused: bad or missing signature");
      deps.metrics.webhookRefusals.inc({ webhook: c.req.path });
      throw new AppError("invalid_signature", "the carrier signature is missing or does not match this URL");
    }
    return deps.carrier.parseWebhook(request);
  }

  const xml = (c: Context, script: VoiceScript) => {
    const document = deps.carrier.render(script);
    return c.body(document.body, 200, { "Content-Type": document.contentType });
  };

  /** A machine or a fax answered, as this request says or, failing that, as an earlier one of the call said. */
  async function machineAnswered(id: string, event: CallEvent, service: ServiceSettings): Promise<boolean> {
    let verdict = event.answeredBy?.verdict;
    if (!verdict && service.machineDetection) {
      const stored = await recordedAnsweredBy(deps.otp, id);
      if (stored) verdict = deps.carrier.answeringVerdict(stored);
    }
    return verdict === "machine" || verdict === "fax";
  }

  async function voice(c: Context<AppEnv>) {
    const event = await verified(c);
    const id = c.req.query("c") ?? "";
    const step = c.req.query("step");
    const n = Math.max(0, Math.min(10, Number(c.req.query("n") ?? "0") || 0));
    const call = challengeId.safeParse(id).success ? await codeToSpeak(deps.otp, id) : null;
    // The words of the service that placed the call (kept after the service is deleted).
    const settings: ServiceSettings = (call && (await deps.services.find(call.serviceId))) || deps.services.default;
    // A challenge that ended, or a request from another call than the one we placed, hears no code.
    if (!call || (call.callSid && event.callId && call.callSid !== event.callId)) {
      return xml(c, unavailableScript(settings, call?.language ?? settings.language));
    }
    if (await machineAnswered(id, event, settings)) {
      const answeredBy = event.answeredBy?.detail;
      await recordMachine(deps.otp, id, answeredBy);
      c.get("log").info({ challenge: id, answeredBy }, "answering machine: code withheld");
      return xml(c, machineScript(settings, call.language));
    }
    const base = deps.publicBaseUrl();
    const next = (gateTries: number, repeats: number) => ({
      afterGate: `${base}/call-2fa?c=${id}&step=gate&n=${gateTries}`,
      afterCode: `${base}/call-2fa?c=${id}&step=code&n=${repeats}`,
    });
    const digits = event.digits;

    if (step === "gate") {
      if (call.gateDigit !== null && digits === String(call.gateDigit)) return xml(c, codeScript(settings, call, next(0, 1), 0));
      if (n + 1 >= GATE_TRIES || call.gateDigit === null) return xml(c, noKeyScript(settings, call.language));
      return xml(c, gateScript(settings, call.language, call.gateDigit, next(n + 1, 0), false));
    }
    if (step === "code") {
      if (!digits) return xml(c, noKeyScript(settings, call.language));
      return xml(c, codeScript(settings, call, next(0, n + 1), n));
    }
    return xml(c, openingScript(settings, call, next(0, 1)));
  }

  // Only POST: every call and Gather asks the carrier for POST, so a GET is nobody's
  // request, and its fields would travel in a query string some carriers do not sign.
  app.openapi(voiceRoute, voice);

  app.openapi(callStatusRoute, async (c) => {
    const event = await verified(c);
    const id = c.req.query("c") ?? "";
    const { callId, status } = event;
    if (challengeId.safeParse(id).success && callId && status) {
      // recordCallEvent ignores an event from another call than the one placed, or one that does not move it forward.
      const { recorded, serviceId } = await recordCallEvent(deps.otp, { challengeId: id, callSid: callId, status, answeredBy: event.answeredBy?.detail });
      if (recorded) deps.metrics.callOutcomes.inc({ service: serviceId, status });
      c.get("log").info({ challenge: id, callStatus: status, recorded }, "call status");
    }
    return c.body(null, 204);
  });

  return app;
}
