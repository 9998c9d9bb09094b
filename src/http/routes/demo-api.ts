import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { DEFAULT_SERVICE_ID } from "../../db/schema.js";
import { getChallenge, type ChallengeView } from "../../otp/challenges.js";
import { checkCode } from "../../otp/check-code.js";
import { signedByPublishedKey } from "../../tokens/check.js";
import { apiKeyAuth, clientAddress, fromAnotherOrigin, keyService, openAndSimulated, requestRate } from "../auth.js";
import type { AppDeps, AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { placeVerificationCall } from "../place-call.js";
import { judgeGuess } from "../judge-guess.js";
import { challengeId } from "../schemas.js";
import { requireJson } from "./services.js";
import { DEMO_KEY_NAME, demoConfigRoute, demoKeyName, demoRoutes } from "./demo-api.openapi.js";

/**
 * The /demo page's API: a call, its progress, the code's check. It places calls through
 * placeVerificationCall and checks codes through checkCode, as /request-auth and
 * /validate-auth do, so every limit holds: the calls count under the browser's own address
 * (CALLS_PER_IP_PER_HOUR), the requests under the key's REQUESTS_PER_KEY_PER_MINUTE (without a
 * key, one budget every visitor shares), and the
 * guesses under the challenge's and the number's. It reads and checks only challenges it
 * made itself, with the same key.
 *
 * No endpoint that can place a call is open in production or with a real carrier, this one
 * included. So it goes without a key only where /request-auth does and no phone rings
 * (openAndSimulated: no API_KEYS, the simulator, outside production), as one shared
 * pseudo-key in the default service. Anywhere else it takes a service's API key, checked by
 * the same apiKeyAuth as /request-auth (the same 401), and acts in that key's service; the
 * page asks the person for it. GET /demo/api/config tells the page which.
 *
 * app.ts mounts it only when DEMO_ENABLED. Pages of other origins are refused (a form on any
 * site could otherwise place calls), and what the phone heard, the code included, is shown
 * only with the simulator outside production.
 */

const NO_DEMO_CALL = "no demo call with this id";

export function demoApiRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  const keyRequired = !openAndSimulated(deps.config);
  const routes = demoRoutes(keyRequired);

  const sameOrigin: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (fromAnotherOrigin(c, deps.publicBaseUrl())) throw new AppError("cross_origin", "the demo answers its own page only, not pages of other origins");
    return next();
  };
  /** Keyless: one pseudo-key for every visitor, in the default service. */
  const pageKey: MiddlewareHandler<AppEnv> = async (c, next) => {
    c.set("apiKey", { name: DEMO_KEY_NAME, perMinute: deps.config.limits.requestsPerKeyPerMinute, serviceId: DEFAULT_SERVICE_ID });
    return next();
  };
  // A key even where /request-auth is open (a real carrier with ALLOW_OPEN_API): keyless only when openAndSimulated.
  const identify = keyRequired ? apiKeyAuth(deps, "service", { open: false }) : pageKey;
  // The wildcard covers /demo/api/call itself; /demo/api/config is left out: it says whether a key is needed.
  for (const path of ["/demo/api/call/*", "/demo/api/verify"]) app.use(path, sameOrigin, identify, requestRate(deps), keyService(deps));

  /** The name the demo's challenges are recorded under for this request's key. */
  const recordedAs = (c: Context<AppEnv>) => (keyRequired ? demoKeyName(c.get("apiKey").name) : DEMO_KEY_NAME);

  /** A challenge this key made through the demo, or 404: the demo never shows nor checks a backend's challenges. */
  async function demoChallenge(c: Context<AppEnv>, id: string): Promise<ChallengeView> {
    const view = challengeId.safeParse(id).success ? await getChallenge(deps.otp, c.get("service").id, id) : null;
    if (!view || view.apiKeyName !== recordedAs(c)) throw new AppError("not_found", NO_DEMO_CALL);
    return view;
  }

  app.openapi(demoConfigRoute, (c) => c.json({ key_required: keyRequired, shows_heard: deps.heard !== undefined }, 200));

  app.openapi(routes.call, async (c) => {
    requireJson(c);
    const body = c.req.valid("json");
    const created = await placeVerificationCall(deps, {
      service: c.get("service"),
      number: body.number,
      language: body.language,
      clientIp: clientAddress(c, deps.config.trustProxy),
      apiKeyName: recordedAs(c),
      log: c.get("log"),
    });
    return c.json({ ...created, shows_heard: deps.heard !== undefined }, 201);
  });

  app.openapi(routes.progress, async (c) => {
    const view = await demoChallenge(c, c.req.param("id") ?? "");
    return c.json(
      {
        id: view.id,
        status: view.status,
        attempts_used: view.attemptsUsed,
        attempts_allowed: view.attemptsAllowed,
        expires_at: view.expiresAt.toISOString(),
        failure_code: view.failureCode,
        call: {
          carrier: view.carrier,
          sid: view.callSid,
          status: view.callStatus,
          answered_by: view.answeredBy,
          events: view.callEvents.map((e) => ({ status: e.status, at: e.at.toISOString() })),
        },
        heard: deps.heard ? [...(deps.heard(view.id) ?? [])] : null,
      },
      200,
    );
  });

  app.openapi(routes.verify, async (c) => {
    requireJson(c);
    const body = c.req.valid("json");
    const { id } = await demoChallenge(c, body.id);
    const judged = await judgeGuess(c, deps, () => checkCode(deps.otp, c.get("service"), { id }, body.auth_code));
    if (!judged.approved) return c.json(judged.denied, 403);
    const signedBy = signedByPublishedKey(judged.verification_token, (await deps.tokens.jwks()).keys);
    if (signedBy === null) throw new Error(`the token signed with kid ${judged.kid} does not check against the published keys`);
    return c.json(
      {
        status: "approved" as const,
        id: judged.id,
        verification_token: judged.verification_token,
        verification_token_expires_at: judged.verification_token_expires_at,
        signed_by: signedBy,
      },
      200,
    );
  });

  return app;
}
