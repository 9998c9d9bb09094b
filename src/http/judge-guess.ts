import type { Context } from "hono";
import type { CheckResult } from "../otp/check-code.js";
import { verificationToken } from "../tokens/verification-token.js";
import type { AppDeps, AppEnv } from "./env.js";
import { DENIED_MESSAGES } from "./responses.js";

export type Judged =
  | { approved: true; id: string; verification_token: string; verification_token_expires_at: string; kid: string }
  | { approved: false; denied: DeniedBody };

export interface DeniedBody {
  status: "denied";
  reason: Extract<CheckResult, { kind: "denied" }>["reason"];
  attempts_remaining: number;
  challenge_id?: string;
  error: { code: string; message: string };
}

/**
 * One guess judged for a route (/validate-auth, the demo): the verdict counted and logged,
 * and an approval given its verification token. The signing key is taken before the guess
 * is judged, so that a key that cannot be opened fails the request without spending the code.
 */
export async function judgeGuess(c: Context<AppEnv>, deps: AppDeps, check: () => Promise<CheckResult>): Promise<Judged> {
  const service = c.get("service");
  const signer = await deps.tokens.signer();
  const result = await check();
  deps.metrics.validations.inc({ service: service.id, result: result.kind === "approved" ? "approved" : result.reason });
  if (result.kind !== "approved") {
    c.get("log").info({ challenge: result.id, reason: result.reason }, "code denied");
    return {
      approved: false,
      denied: {
        status: "denied",
        reason: result.reason,
        attempts_remaining: result.attemptsRemaining,
        ...(result.id === undefined ? {} : { challenge_id: result.id }),
        error: { code: result.reason, message: DENIED_MESSAGES[result.reason] },
      },
    };
  }
  c.get("log").info({ challenge: result.id, kid: signer.kid }, "code approved");
  const receipt = verificationToken(signer, {
    issuer: deps.publicBaseUrl(),
    number: result.number,
    serviceId: service.id,
    challengeId: result.id,
    now: deps.clock.now(),
  });
  return {
    approved: true,
    id: result.id,
    verification_token: receipt.token,
    verification_token_expires_at: receipt.expiresAt.toISOString(),
    kid: signer.kid,
  };
}
