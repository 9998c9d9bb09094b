import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { listSigningKeys, type SigningKey } from "../../tokens/keys.js";
import type { AppDeps, AppEnv } from "../env.js";
import { errorResponses } from "../error-docs.js";
import { adminKeySecurity, jsonResponse } from "../openapi-route.js";
import { adminExamples, ERRORS, headers } from "./services.openapi.js";

/**
 * The token-signing keys through the admin API (admin keys only: app.ts guards
 * /signing-keys/*): their ids and dates, never private material, and their rotation, which
 * `voice-otp tokens rotate` does too.
 */

const timestamp = (description: string) => z.iso.datetime().nullable().meta({ description });

const signingKeyView = z
  .object({
    kid: z.string().meta({ description: "The key's id: the `kid` of the tokens it signs and of its entry in /.well-known/jwks.json." }),
    active: z.boolean().meta({ description: "Whether it signs new tokens; one key does." }),
    published: z.boolean().meta({ description: "Whether /.well-known/jwks.json lists it: the active key, and a retired one until `published_until`." }),
    created_at: z.iso.datetime(),
    retired_at: timestamp("When a rotation replaced it; `null` for the active key."),
    published_until: timestamp("When it leaves the JWKS: 6 minutes after its retirement, once its last token has expired. `null` for the active key."),
  })
  .meta({ id: "SigningKey" });

const keyList = z
  .object({ keys: z.array(signingKeyView).meta({ description: "The active key first, then the retired ones kept (a day after they leave the JWKS), newest first." }) })
  .meta({ id: "SigningKeyList" });

type KeyView = z.infer<typeof signingKeyView>;

const at = (minute: number) => new Date(Date.UTC(2026, 10, 22, 9, minute)).toISOString();
const ACTIVE: KeyView = { kid: "KFqg1tZIEzrWWc1PjviG5ffHAdvO4eSTe3khbAHlF_s", active: true, published: true, created_at: at(30), retired_at: null, published_until: null };
const RETIRED: KeyView = { kid: "n_O7ykaS3CVzsqmTuf8Git6I2WjwybGc2u64hDHQM-k", active: false, published: true, created_at: at(0), retired_at: at(30), published_until: at(36) };

const common = { tags: ["Verification tokens"], security: adminKeySecurity, request: { headers } };

export const listSigningKeysRoute = createRoute({
  ...common,
  method: "get",
  path: "/signing-keys",
  summary: "The token-signing keys",
  description: "Each key's id and dates, never its private half. Takes an admin key.",
  responses: {
    200: jsonResponse("The keys.", keyList, { rotated: { summary: "Minutes after a rotation", value: { keys: [ACTIVE, RETIRED] } } }),
    ...errorResponses([...ERRORS], adminExamples),
  },
});

export const rotateSigningKeyRoute = createRoute({
  ...common,
  method: "post",
  path: "/signing-keys/rotate",
  summary: "Rotate the token-signing key",
  description:
    "Makes a new key, which signs every token from now on (on other instances within a few seconds), and retires the active one; the retired key stays in /.well-known/jwks.json until the tokens it signed have expired, so none of them stops verifying. No body. Takes an admin key.",
  responses: {
    200: jsonResponse("The keys after the rotation: the new one first.", keyList, { rotated: { summary: "The new key and the one it replaced", value: { keys: [ACTIVE, RETIRED] } } }),
    ...errorResponses([...ERRORS], adminExamples),
  },
});

export function signingKeyRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  const view = (k: SigningKey, now: Date): KeyView => ({
    kid: k.kid,
    active: k.retiredAt === null,
    published: k.publishedUntil === null || k.publishedUntil > now,
    created_at: k.createdAt.toISOString(),
    retired_at: k.retiredAt?.toISOString() ?? null,
    published_until: k.publishedUntil?.toISOString() ?? null,
  });
  const list = async () => {
    const now = deps.clock.now();
    return { keys: (await listSigningKeys(deps.database)).map((k) => view(k, now)) };
  };

  app.openapi(listSigningKeysRoute, async (c) => c.json(await list(), 200));

  app.openapi(rotateSigningKeyRoute, async (c) => {
    const rotated = await deps.tokens.rotate();
    c.get("log").info({ kid: rotated.kid, retired: rotated.retired }, "token-signing key rotated");
    return c.json(await list(), 200);
  });
  return app;
}
