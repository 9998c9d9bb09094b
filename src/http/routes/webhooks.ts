import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppDeps, AppEnv } from "../env.js";
import { CALL_STATUSES, recordAnsweredBy, recordCallEvent, type CallStatus } from "../../otp/call-events.js";
import { codeToSpeak } from "../../otp/challenges.js";
import { resolveLanguage } from "../../voice/phrases.js";
import { codeScript, gateScript, machineScript, noKeyScript, openingScript, unavailableScript } from "../../voice/script.js";
import type { VoiceScript } from "../../voice/script.types.js";
import { AppError } from "../errors.js";
import { readForm, type FormFields } from "../form.js";
import { publicRequestUrl } from "../public-url.js";
import { challengeId } from "../schemas.js";
import { callStatusRoute, voiceRoutes, webhookForm } from "./webhooks.openapi.js";

type Params = FormFields;
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
/** AnsweredBy as carriers spell it (human, machine_start, fax…); anything else is not kept. */
const answeredByOf = (params: Params) => {
  const v = first(params.AnsweredBy);
  return v && /^[a-z_]{1,32}$/.test(v) ? v : undefined;
};
const GATE_TRIES = 3;

/** The carrier's webhooks. Nothing here is answered before the signature checks out. */
export function webhookRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();

  async function verified(c: Context<AppEnv>): Promise<Params> {
    let params: Params = {};
    if (c.req.method === "POST") {
      const type = c.req.header("content-type") ?? "";
      if (!/^application\/x-www-form-urlencoded|^multipart\/form-data/i.test(type)) {
        throw new AppError("unsupported_media_type", "carrier webhooks are form posts");
      }
      // Every value of a repeated key is signed, so every value must be kept.
      // A malformed multipart body (no boundary, cut short) makes the parser throw: the sender's fault.
      params = await readForm(c).catch(() => {
        throw new AppError("invalid_request", "the form body could not be parsed");
      });
      // A URL-encoded form holds text and nothing else; a multipart one may hold files.
      if (/^multipart/i.test(type) && !webhookForm.safeParse(params).success) {
        throw new AppError("invalid_request", "carrier webhooks carry text fields only");
      }
    }
    const url = publicRequestUrl(c, deps.publicBaseUrl(), deps.config.trustProxy);
    // The carriers' signature headers, all the adapters read.
    const headers = { "x-twilio-signature": c.req.header("x-twilio-signature"), "x-signalwire-signature": c.req.header("x-signalwire-signature") };
    if (!deps.carrier.verifySignature({ url, params, headers })) {
      c.get("log").warn("webhook refused: bad or missing signature");
      deps.metrics.webhookRefusals.inc({ webhook: c.req.path });
      throw new AppError("invalid_signature", "the carrier signature is missing or does not match this URL");
    }
    return params;
  }

  const xml = (c: Context, script: VoiceScript) =>
    c.body(deps.carrier.voiceResponse(script), 200, { "Content-Type": "text/xml; charset=utf-8" });

  async function voice(c: Context<AppEnv>) {
    const params = await verified(c);
    const id = c.req.query("c") ?? "";
    const step = c.req.query("step");
    const n = Math.max(0, Math.min(10, Number(c.req.query("n") ?? "0") || 0));
    const settings = { orgName: deps.config.voice.orgName, language: deps.config.voice.language, voice: deps.config.voice.voice };
    const fallbackLanguage = resolveLanguage(deps.config.voice.language) ?? "en";

    const call = challengeId.safeParse(id).success ? await codeToSpeak(deps.otp, id) : null;
    const callSid = first(params.CallSid);
    // A challenge that ended, or a request from another call than the one we placed, hears no code.
    if (!call || (call.callSid && callSid && call.callSid !== callSid)) {
      return xml(c, unavailableScript(settings, call?.language ?? fallbackLanguage));
    }
    const answeredBy = answeredByOf(params);
    if (answeredBy && /^(machine|fax)/.test(answeredBy)) {
      await recordAnsweredBy(deps.otp, id, answeredBy);
      c.get("log").info({ challenge: id, answeredBy }, "answering machine: code withheld");
      return xml(c, machineScript(settings, call.language));
    }
    const base = deps.publicBaseUrl();
    const next = (gateTries: number, repeats: number) => ({
      afterGate: `${base}/call-2fa?c=${id}&step=gate&n=${gateTries}`,
      afterCode: `${base}/call-2fa?c=${id}&step=code&n=${repeats}`,
    });
    const digits = first(params.Digits);

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

  app.openapi(voiceRoutes.post, voice);
  app.openapi(voiceRoutes.get, voice);

  app.openapi(callStatusRoute, async (c) => {
    const params = await verified(c);
    const id = c.req.query("c") ?? "";
    const status = first(params.CallStatus);
    const callSid = first(params.CallSid);
    if (challengeId.safeParse(id).success && callSid && CALL_STATUSES.includes(status as CallStatus)) {
      const { recorded } = await recordCallEvent(deps.otp, {
        challengeId: id,
        callSid,
        status: status as CallStatus,
        answeredBy: answeredByOf(params),
      });
      if (recorded) deps.metrics.callOutcomes.inc({ status: status as string });
      c.get("log").info({ challenge: id, callStatus: status, recorded }, "call status");
    }
    return c.body(null, 204);
  });

  return app;
}
