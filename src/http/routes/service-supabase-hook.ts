import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { DEFAULT_SERVICE_ID } from "../../db/schema.js";
import { deleteHook, describeHook, setHookSecrets, type HookView } from "../../hooks/supabase-hook-store.js";
import { checkHookSecrets, hookSecretKeys } from "../../hooks/supabase-secrets.js";
import { findService, ID_PREFIX } from "../../services/store.js";
import type { AppDeps, AppEnv } from "../env.js";
import { errorResponses } from "../error-docs.js";
import { AppError } from "../errors.js";
import { adminKeySecurity, jsonResponse } from "../openapi-route.js";
import { requireJson } from "./services.js";
import { adminExamples, ERRORS, headers, idParam, jsonBody, NOT_FOUND } from "./services.openapi.js";

/**
 * A service's Supabase Send SMS hook through the admin API (admin keys only: app.ts guards
 * /services/*): the secret Supabase signs with, which Supabase makes and the operator
 * pastes here, kept sealed and never answered. The default service's follows
 * SUPABASE_HOOK_SECRET while that is set.
 */

const FROM_ENV = "the default service's Supabase hook secret is SUPABASE_HOOK_SECRET: change it and restart";
const NO_HOOK = "this service has no Supabase hook secret; PUT /services/{id}/supabase-hook sets one";

const setBody = z
  .strictObject({
    secret: z.string().max(1024).superRefine(checkHookSecrets).meta({
      description: "The secret Supabase shows for the hook, `v1,whsec_<base64>`; during a rotation both, separated by `|`, as Supabase takes them.",
    }),
  })
  .meta({ id: "SetSupabaseHookBody", description: "The secret(s) Supabase signs the Send SMS hook with." });

const hookView = z
  .object({
    url: z.string().meta({ description: "The hook's URL, to set in Supabase (Authentication > Hooks > Send SMS, HTTPS)." }),
    secrets: z.number().int().meta({ description: "How many secrets are held (2 during a rotation). Never the secrets." }),
    updated_at: z.iso.datetime().nullable().meta({ description: "When they were set; null when SUPABASE_HOOK_SECRET sets them." }),
  })
  .meta({ id: "SupabaseHook", description: "A service's Supabase Send SMS hook: where Supabase calls it, and how many secrets it holds." });

const SECRET = "v1,whsec_ZWQ4NWUxNzZmYzRmNGMzMWE2NDhmYjQ0YjlmOGE2ZjM=";
const example = { url: "https://otp.example.com/hooks/supabase/send-sms/svc_4f9c2a7d1e", secrets: 1, updated_at: "2026-11-23T09:30:00.000Z" };
const common = { tags: ["Services"], security: adminKeySecurity };
const refusals = (extra: readonly ("invalid_request" | "payload_too_large" | "unsupported_media_type")[], invalid: string) =>
  errorResponses([...extra, ...ERRORS, "not_found"], { ...adminExamples, not_found: { message: NOT_FOUND }, invalid_request: { message: invalid } });
const path = "/services/{id}/supabase-hook";

export const getSupabaseHookRoute = createRoute({
  ...common,
  method: "get",
  path,
  summary: "A service's Supabase hook",
  description: "The URL to give Supabase and how many secrets are held; never a secret. Takes an admin key.",
  request: { params: idParam, headers },
  responses: { 200: jsonResponse("The hook.", hookView, { set: { summary: "One secret", value: example } }), ...refusals([], NO_HOOK) },
});

export const setSupabaseHookRoute = createRoute({
  ...common,
  method: "put",
  path,
  summary: "Set a service's Supabase hook secret",
  description:
    "Stores the secret Supabase gives for its Send SMS hook (sealed with SECRET_KEY); from then on the URL answered places calls for this service. To rotate, send both secrets separated by `|`, then the new one alone once Supabase holds only it. Takes an admin key.",
  request: { params: idParam, headers, body: jsonBody(setBody, { one: { summary: "The secret Supabase shows", value: { secret: SECRET } } }) },
  responses: {
    200: jsonResponse("The hook as set.", hookView, { set: { summary: "Set", value: example } }),
    ...refusals(["invalid_request", "payload_too_large", "unsupported_media_type"], "secret: the secret does not start with v1,whsec_: use v1,whsec_ followed by the base64 of 16 to 64 bytes"),
  },
});

export const deleteSupabaseHookRoute = createRoute({
  ...common,
  method: "delete",
  path,
  summary: "Remove a service's Supabase hook secret",
  description: "From then on its hook URL answers 404 and places no call. Takes an admin key.",
  request: { params: idParam, headers },
  responses: { 200: jsonResponse("The hook removed, as it was.", hookView, { removed: { summary: "Removed", value: example } }), ...refusals(["invalid_request"], FROM_ENV) },
});

export function serviceSupabaseHookRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  const { database, keys } = deps.otp;
  const fromEnv = (id: string) => id === DEFAULT_SERVICE_ID && deps.config.supabaseHookSecret !== undefined;

  /** A live service's id, or a 404: ids only, as the rest of /services. */
  async function serviceId(id: string, change: boolean): Promise<string> {
    if (id === DEFAULT_SERVICE_ID) {
      if (change && fromEnv(id)) throw new AppError("invalid_request", FROM_ENV);
      return id;
    }
    const found = id.startsWith(ID_PREFIX) && /^[\w-]{1,64}$/.test(id) ? await findService(database, id) : undefined;
    if (!found || found.id !== id) throw new AppError("not_found", NOT_FOUND);
    return id;
  }
  const body = (id: string, h: HookView | undefined) => {
    if (!h) throw new AppError("not_found", NO_HOOK);
    const url = `${deps.publicBaseUrl()}/hooks/supabase/send-sms${id === DEFAULT_SERVICE_ID ? "" : `/${id}`}`;
    return { url, secrets: h.secrets, updated_at: h.updatedAt?.toISOString() ?? null };
  };

  app.openapi(getSupabaseHookRoute, async (c) => {
    const id = await serviceId(c.req.valid("param").id, false);
    const view: HookView | undefined = fromEnv(id)
      ? { secrets: hookSecretKeys(deps.config.supabaseHookSecret!).length, updatedAt: null }
      : await describeHook(database, keys, id);
    return c.json(body(id, view), 200);
  });

  app.openapi(setSupabaseHookRoute, async (c) => {
    const id = await serviceId(c.req.valid("param").id, true);
    requireJson(c);
    const set = await setHookSecrets(database, keys, id, c.req.valid("json").secret.split("|").map((s) => s.trim()).join("|"), deps.clock.now());
    c.get("log").info({ service: id, secrets: set.secrets }, "Supabase hook secret set");
    return c.json(body(id, set), 200);
  });

  app.openapi(deleteSupabaseHookRoute, async (c) => {
    const id = await serviceId(c.req.valid("param").id, true);
    const removed = await deleteHook(database, keys, id);
    c.get("log").info({ service: id }, "Supabase hook secret removed");
    return c.json(body(id, removed), 200);
  });

  return app;
}
