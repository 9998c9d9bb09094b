import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { DatabaseBusyError, DatabaseUnavailableError } from "../../db/database.js";
import { DEFAULT_SERVICE_ID } from "../../db/schema.js";
import { verifySignedRequest } from "../../hooks/standard-webhooks.js";
import { destination, hookError, sendSmsPayload } from "../../hooks/supabase.js";
import { claimHookDelivery, storedHookSecrets } from "../../hooks/supabase-hook-store.js";
import { hookSecretKeys } from "../../hooks/supabase-secrets.js";
import { maskNumber } from "../../phone.js";
import type { AppDeps, AppEnv } from "../env.js";
import { errorResponses } from "../error-docs.js";
import { AppError, ERRORS } from "../errors.js";
import { publicRoute, withRequestId } from "../openapi-route.js";
import { placeVerificationCall } from "../place-call.js";

/**
 * Supabase Auth's Send SMS hook (src/hooks/supabase.ts has its contract): Supabase makes
 * the code and POSTs it here, signed with the hook's secret, and the number hears it in a
 * call placed exactly as POST /request-auth places one, every limit included. No API key:
 * the signature is the authentication, and nothing is read or written before it checks out.
 * `/hooks/supabase/send-sms` is the default service's, `/hooks/supabase/send-sms/{service}`
 * another service's (by id).
 */

/** Recorded on the challenges it creates, where a key's name would be. */
export const SUPABASE_HOOK_KEY_NAME = "supabase-hook";

const NOT_CONFIGURED = "no Supabase hook secret is set for this service: set SUPABASE_HOOK_SECRET (the default service) or PUT /services/{id}/supabase-hook";

// Documented as JSON Schema, not zod: a zod body would be validated before the handler, and
// so answered before the signature is checked. The handler checks sendSmsPayload itself.
const payloadJson = (z.toJSONSchema(sendSmsPayload.meta({ id: "SupabaseSendSmsPayload" })) as { $defs?: Record<string, unknown> }).$defs?.SupabaseSendSmsPayload ?? {};
const EXAMPLE = {
  user: { id: "6481a5c1-3d37-4a56-9f6a-bee08c554965", aud: "authenticated", role: "authenticated", email: "", phone: "+14155550123", is_anonymous: false },
  sms: { otp: "561166" },
};
const hookErrorBody = z
  .object({ error: z.object({ code: z.string(), http_code: z.number().int(), message: z.string() }) })
  .meta({ id: "SupabaseHookError", description: "Supabase fails the sign-in with `http_code` and shows `message`; `code` is this service's catalogue code." });

const declaration = (path: string, summary: string, params?: z.ZodObject) =>
  createRoute({
    method: "post",
    path,
    tags: ["Supabase"],
    summary,
    description:
      "Called by Supabase Auth, not by you: set it as the Send SMS hook (HTTPS) with the secret Supabase gives, `v1,whsec_…`. Checks the Standard Webhooks signature (and refuses a timestamp more than 5 minutes off), then calls `sms.phone` (else `user.phone`) and reads `sms.otp`, with the service's language, gate and every limit but the per-address one (Supabase names no end-user address). Answers 200 `{}` once the carrier has accepted the call, or 200 with Supabase's error shape, which Supabase turns into the sign-in's error. The code is never echoed or logged.",
    security: publicRoute,
    request: {
      ...(params ? { params } : {}),
      headers: z.object({
        "webhook-id": z.string().optional().meta({ description: "The message id, unique per request." }),
        "webhook-timestamp": z.string().optional().meta({ description: "Unix seconds; more than 5 minutes from the service's clock is refused." }),
        "webhook-signature": z.string().optional().meta({ description: "`v1,<base64>`, one per secret Supabase holds." }),
      }),
      body: { required: true, content: { "application/json": { schema: payloadJson, examples: { supabase: { summary: "As Supabase sends it (abridged)", value: EXAMPLE } } } } },
    },
    responses: {
      200: {
        description: "The call was placed (`{}`), or refused: Supabase's error shape, with the status Supabase answers the sign-in with.",
        headers: withRequestId(),
        content: {
          "application/json": {
            schema: z.union([z.object({}).strict(), hookErrorBody]),
            examples: {
              placed: { summary: "The carrier accepted the call", value: {} },
              refused: {
                summary: "A limit refused it",
                value: { error: { code: "rate_limited", http_code: 429, message: "Too many verification calls to this phone number. Try again in 27 seconds." } },
              },
            },
          },
        },
      },
      ...errorResponses(["invalid_request", "invalid_hook_signature", "hook_not_configured", "payload_too_large", "unsupported_media_type", "shutting_down"], {
        invalid_request: { message: "sms.otp must be 4 to 10 digits", http_code: 400 },
      }),
    },
  });

export const supabaseHookRoute = declaration("/hooks/supabase/send-sms", "Supabase Send SMS hook (the default service)");
export const supabaseServiceHookRoute = declaration(
  "/hooks/supabase/send-sms/{service}",
  "Supabase Send SMS hook (a service)",
  z.object({ service: z.string().meta({ param: { example: "svc_4f9c2a7d1e" }, description: "The service's id." }) }),
);

export function supabaseHookRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  const { database, keys } = deps.otp;

  /** An error before any call: its status, our catalogue's shape, and the `http_code` Supabase reads. */
  const refuse = (code: keyof typeof ERRORS, message: string): never => {
    throw new AppError(code, message, { http_code: ERRORS[code] });
  };

  async function secretsFor(serviceId: string): Promise<string | undefined> {
    if (serviceId === DEFAULT_SERVICE_ID && deps.config.supabaseHookSecret) return deps.config.supabaseHookSecret;
    if (serviceId !== DEFAULT_SERVICE_ID && !/^svc_[\w-]{1,60}$/.test(serviceId)) return undefined;
    return storedHookSecrets(database, keys, serviceId);
  }

  async function handle(c: Context<AppEnv>, serviceId: string) {
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json") refuse("unsupported_media_type", "Supabase sends its hook as application/json");
    const secrets = await secretsFor(serviceId);
    const service = secrets === undefined ? undefined : await deps.services.find(serviceId);
    if (!service || service.deleted) return refuse("hook_not_configured", NOT_CONFIGURED);

    const body = await c.req.text();
    const now = deps.clock.now();
    const headers = { id: c.req.header("webhook-id"), timestamp: c.req.header("webhook-timestamp"), signature: c.req.header("webhook-signature") };
    const verdict = verifySignedRequest(headers, body, hookSecretKeys(secrets!), now);
    if (!verdict.ok) {
      c.get("log").warn({ service: serviceId, reason: verdict.reason }, "Supabase hook refused: bad signature");
      deps.metrics.webhookRefusals.inc({ webhook: "/hooks/supabase/send-sms" });
      return refuse("invalid_hook_signature", verdict.reason);
    }
    // A signed request seen before (a replay inside the 5 minutes) places no second call.
    if (!(await claimHookDelivery(database, serviceId, verdict.id, now))) {
      c.get("log").warn({ service: serviceId }, "Supabase hook: a webhook-id already handled, no second call");
      return c.json({}, 200);
    }

    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return refuse("invalid_request", "the body is not valid JSON");
    }
    const parsed = sendSmsPayload.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return refuse("invalid_request", issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message);
    }
    const number = destination(parsed.data);
    if (!number) return refuse("invalid_request", "user.phone: the user has no phone number to call");

    try {
      const created = await placeVerificationCall(deps, {
        service,
        number,
        code: parsed.data.sms.otp,
        apiKeyName: SUPABASE_HOOK_KEY_NAME,
        log: c.get("log").child({ service: serviceId }),
      });
      c.get("log").info({ service: serviceId, challenge: created.id, to: maskNumber(created.number) }, "Supabase hook: call placed");
      return c.json({}, 200);
    } catch (err) {
      // Supabase reads a refusal only from a 200: any other status becomes a generic 500 for the user.
      const refusal =
        err instanceof AppError
          ? hookError(err.code, err.status, err.details)
          : err instanceof DatabaseBusyError || err instanceof DatabaseUnavailableError
            ? hookError("service_unavailable", 503)
            : undefined;
      if (!refusal) {
        c.get("log").error({ err, service: serviceId }, "Supabase hook: unhandled error");
        return c.json({ error: { code: "internal_error", ...hookError("internal_error", 500) } }, 200);
      }
      const code = err instanceof AppError ? err.code : "service_unavailable";
      c.get("log").info({ service: serviceId, refusal: code }, "Supabase hook: call refused");
      return c.json({ error: { code, ...refusal } }, 200);
    }
  }

  app.openapi(supabaseHookRoute, (c) => handle(c, DEFAULT_SERVICE_ID) as never);
  app.openapi(supabaseServiceHookRoute, (c) => handle(c, c.req.param("service") ?? "") as never);
  return app;
}
