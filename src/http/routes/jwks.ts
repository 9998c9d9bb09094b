import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../env.js";
import { errorResponses } from "../error-docs.js";
import { jsonResponse, publicRoute } from "../openapi-route.js";

/**
 * The public keys that check verification tokens, as a JWK set (RFC 7517), open to anyone:
 * they are public, and a verifier needs no key of ours. Cached for a minute at most, since a
 * rotation's new key signs at once (a verifier that meets an unknown `kid` fetches again).
 */

const CACHE_SECONDS = 60;

const jwk = z
  .object({
    kty: z.literal("OKP"),
    crv: z.literal("Ed25519"),
    x: z.string().meta({ description: "The public key, base64url." }),
    kid: z.string().meta({ description: "Its id (the JWK thumbprint, RFC 7638): the `kid` in the header of the tokens it signs." }),
    alg: z.literal("EdDSA"),
    use: z.literal("sig"),
  })
  .meta({ id: "Jwk" });

export const jwksBody = z
  .object({
    keys: z.array(jwk).meta({
      description:
        "The active key first, then keys retired in the last six minutes: a retired key stays until every token it signed has expired (5 minutes, and a minute for clocks that disagree).",
    }),
  })
  .meta({ id: "Jwks", description: "The keys verification tokens are signed with." });

const ACTIVE = { kty: "OKP", crv: "Ed25519", x: "Qb2PU41FmwGoZxnvPtQtfY5JItwY_lDMjrNxAI74GJg", kid: "KFqg1tZIEzrWWc1PjviG5ffHAdvO4eSTe3khbAHlF_s", alg: "EdDSA", use: "sig" } as const;
const RETIRED = { kty: "OKP", crv: "Ed25519", x: "QLAwctotqYX0rIfdXnUgEFqtqxaPNZkHV1CznV8H6wM", kid: "n_O7ykaS3CVzsqmTuf8Git6I2WjwybGc2u64hDHQM-k", alg: "EdDSA", use: "sig" } as const;

export const jwksRoute = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  tags: ["Verification tokens"],
  summary: "The public keys that check verification tokens",
  description: `The JWK set a verifier checks \`verification_token\` against (with jose: \`createRemoteJWKSet\`). No key needed. Cacheable for ${CACHE_SECONDS} s.`,
  security: publicRoute,
  responses: {
    200: jsonResponse(
      "The keys.",
      jwksBody,
      {
        one: { summary: "One key", value: { keys: [ACTIVE] } },
        rotated: { summary: "Minutes after a rotation: the new key and the one it replaced", value: { keys: [ACTIVE, RETIRED] } },
      },
      { "Cache-Control": z.string().meta({ description: `\`public, max-age=${CACHE_SECONDS}\`.` }) },
    ),
    ...errorResponses(["service_unavailable", "shutting_down"]),
  },
});

export function jwksRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(jwksRoute, async (c) => {
    const body = await deps.tokens.jwks();
    c.header("Cache-Control", `public, max-age=${CACHE_SECONDS}`);
    return c.json(body, 200);
  });
  return app;
}
