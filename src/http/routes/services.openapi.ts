import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { DEFAULT_BLOCKED_PREFIXES } from "../../config/schema.js";
import { SETTING_NAMES, SETTINGS, type SettingName } from "../../services/settings.js";
import { errorResponses, keyRateLimitedExample } from "../error-docs.js";
import { adminKeySecurity, jsonResponse, requestIdParam } from "../openapi-route.js";

/**
 * The admin API's routes as the OpenAPI document declares them (services.ts serves them).
 * The settings' schemas are made from the table of settings, so a new setting is
 * documented, typed in the client and accepted here without another edit.
 */

const KIND_SCHEMAS = {
  string: () => z.string(),
  integer: () => z.number().int(),
  boolean: () => z.boolean(),
  list: () => z.array(z.string()),
  templates: () => z.record(z.string(), z.string()),
};

const settingSchema = (name: SettingName) => KIND_SCHEMAS[SETTINGS[name].kind]();
const settingsShape = (each: (name: SettingName) => z.ZodType) => Object.fromEntries(SETTING_NAMES.map((n) => [n, each(n)]));
const TEMPLATE_RULES =
  " The sentence that reads the code, by language (`en`) or tag (`en-GB`, which wins over `en`): `{code}` exactly once, where the digits are read; `{org}` at most once; at most 300 characters; no `<`, `>` or other braces. The call still says \"again\" and reads the code a second time in the language's own words.";
const setBy = (name: SettingName) => `As \`${SETTINGS[name].variable}\` sets it for the default service.${name === "templates" ? TEMPLATE_RULES : ""}`;

/** What a service's calls use: every setting, its own or the default service's. */
export const effectiveSettings = z
  .object(
    settingsShape((n) =>
      (n === "voice" ? settingSchema(n).nullable() : settingSchema(n)).meta({
        description: n === "voice" ? `${setBy(n)} \`null\`: the language's default voice.` : setBy(n),
      }),
    ),
  )
  .meta({ id: "ServiceSettings", description: "Every setting a service's calls use: its own, and the default service's for the rest." });

/** The settings a service sets itself. */
export const ownSettings = z
  .object(settingsShape((n) => settingSchema(n).optional().meta({ description: setBy(n) })))
  .meta({ id: "OwnServiceSettings", description: "Only the settings this service sets; it takes the rest from the default service." });

/** A change: each setting given is set, and `null` resets one to the default service's. */
export const settingsChange = z
  .strictObject(settingsShape((n) => settingSchema(n).nullable().optional().meta({ description: `${setBy(n)} \`null\` resets it to the default service's.` })), {
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `${issue.keys.join(", ")}: not a setting; use one of ${SETTING_NAMES.join(", ")}` : undefined,
  })
  .meta({
    id: "ServiceSettingsChange",
    description: "Settings to set. Each is checked by the rules of the variable that sets it for the default service; a voice against the language and the carrier.",
  });

const notAField = (fields: string) => (issue: { code: string; keys?: string[] }) =>
  issue.code === "unrecognized_keys" ? `${issue.keys!.join(", ")}: not a field of this body; send ${fields}` : undefined;

export const createServiceBody = z
  .strictObject(
    {
      name: z.string().meta({ description: "1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit; unique among live services." }),
      settings: settingsChange.optional(),
    },
    { error: notAField("name and settings") },
  )
  .meta({ id: "CreateServiceBody", description: "A new service: its name, and the settings it sets (none: all the default service's)." });

export const updateServiceBody = z
  .strictObject({ name: z.string().optional().meta({ description: "A new name." }), settings: settingsChange.optional() }, { error: notAField("name, settings or both") })
  .meta({ id: "UpdateServiceBody", description: "A new name, settings to set, or both; settings not named keep their values." });

const timestamp = z.iso.datetime().nullable().meta({ description: "ISO 8601, UTC; `null` for the default service." });

export const serviceView = z
  .object({
    id: z.string().meta({ description: "`default` for the service the environment defines, else `svc_…`: what `/services/{id}` takes." }),
    name: z.string(),
    settings: effectiveSettings,
    own_settings: ownSettings,
    editable: z.boolean().meta({ description: "`false` for the default service, which its environment variables set." }),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: "Service", description: "A verification service: the settings its keys' calls use." });

export type ServiceBody = z.infer<typeof serviceView>;

const at = (day: number) => new Date(Date.UTC(2026, 10, day, 9, 30)).toISOString();
const DEFAULTS = {
  org_name: "voice-otp",
  language: "en",
  languages: ["en"],
  voice: null,
  templates: {},
  gate: false,
  machine_detection: true,
  code_length: 6,
  code_ttl_seconds: 600,
  max_attempts: 5,
  allowed_countries: ["US", "CA"],
  blocked_prefixes: DEFAULT_BLOCKED_PREFIXES,
  resend_cooldown_seconds: 30,
  calls_per_number_per_10_min: 3,
  calls_per_number_per_day: 10,
  failed_validations_per_number_per_day: 20,
  calls_per_day: 1000,
  allow_custom_code: false,
};
const defaultExample: ServiceBody = { id: "default", name: "default", settings: DEFAULTS, own_settings: {}, editable: false, created_at: null, updated_at: null };
const shopOwn = { org_name: "Acme Shop", code_length: 8, languages: ["en", "fr", "es"], templates: { en: "Your {org} code is {code}." } };
const shopExample: ServiceBody = {
  id: "svc_kQ3vX9mB2nR7tY1w",
  name: "shop",
  settings: { ...DEFAULTS, ...shopOwn },
  own_settings: shopOwn,
  editable: true,
  created_at: at(20),
  updated_at: at(22),
};

export const idParam = z.object({
  id: z.string().meta({ param: { example: shopExample.id }, description: "The service's id (`svc_…`, or `default`); not its name." }),
});
export const headers = z.object({ "X-Request-Id": requestIdParam });
/**
 * The admin API takes JSON only: its callers are scripts and the reference page, never an
 * HTML form. Not `required`, so that the handler answers a body of no type 415 like any
 * other; the document marks every body required (openapi.ts).
 */
export const jsonBody = <S extends z.ZodType>(schema: S, examples: Record<string, { summary: string; value: z.input<S> }>) => ({
  required: false,
  content: { "application/json": { schema, examples } },
});

export const ERRORS = ["unauthorized", "forbidden", "rate_limited", "internal_error", "service_unavailable", "shutting_down"] as const;
export const adminExamples = {
  unauthorized: { message: "send Authorization: Bearer <key> with a key from ADMIN_API_KEYS or `voice-otp keys create NAME --admin`" },
  rate_limited: keyRateLimitedExample,
};
const invalidSetting = { message: "settings.code_length: Too small: expected number to be >=4", field: "settings.code_length" };
/** What PATCH and DELETE say of the default service. */
export const defaultReadOnly = (verb: "changed" | "deleted") =>
  `the default service cannot be ${verb} here: its environment variables set it (ORG_NAME, LANGUAGE, OTP_LENGTH and the others); change them and restart the service`;
export const NOT_FOUND = "no service with this id; GET /services lists them";
const notFound = { message: NOT_FOUND };

const common = { tags: ["Services"], security: adminKeySecurity };
const oneService = (description: string) => jsonResponse(description, serviceView, { shop: { summary: "A service of its own", value: shopExample } });

export const listServicesRoute = createRoute({
  ...common,
  method: "get",
  path: "/services",
  summary: "List the services",
  description: "Every live service, the default service first. Takes an admin key.",
  request: { headers },
  responses: {
    200: jsonResponse("The services.", z.object({ services: z.array(serviceView) }).meta({ id: "ServiceList" }), {
      two: { summary: "The default service and one of its own", value: { services: [defaultExample, shopExample] } },
    }),
    ...errorResponses([...ERRORS], adminExamples),
  },
});

export const createServiceRoute = createRoute({
  ...common,
  method: "post",
  path: "/services",
  summary: "Create a service",
  description: "A new service, with the settings it sets; a key for it comes from `voice-otp keys create NAME --service ID`. Takes an admin key.",
  request: {
    headers,
    body: jsonBody(createServiceBody, {
      shop: { summary: "Its own name, length and languages", value: { name: "shop", settings: shopOwn } },
      bare: { summary: "Every setting the default service's", value: { name: "staff" } },
    }),
  },
  responses: {
    201: oneService("The service created."),
    ...errorResponses(["invalid_request", ...ERRORS, "name_taken", "payload_too_large", "unsupported_media_type"], { ...adminExamples, invalid_request: invalidSetting }),
  },
});

export const getServiceRoute = createRoute({
  ...common,
  method: "get",
  path: "/services/{id}",
  summary: "A service and its settings",
  description: "`settings` holds every setting its calls use; `own_settings` the ones it sets. Takes an admin key.",
  request: { params: idParam, headers },
  responses: {
    200: jsonResponse("The service.", serviceView, {
      shop: { summary: "A service of its own", value: shopExample },
      default: { summary: "The default service", value: defaultExample },
    }),
    ...errorResponses([...ERRORS, "not_found"], { ...adminExamples, not_found: notFound }),
  },
});

export const updateServiceRoute = createRoute({
  ...common,
  method: "patch",
  path: "/services/{id}",
  summary: "Rename a service or change its settings",
  description:
    "Settings given are set, `null` resets one to the default service's, and the rest keep their values. Every instance uses the change within about a second. The default service is changed through its environment variables, not here. Takes an admin key.",
  request: {
    params: idParam,
    headers,
    body: jsonBody(updateServiceBody, {
      settings: { summary: "Set one setting, reset another", value: { settings: { gate: true, code_length: null } } },
      rename: { summary: "A new name", value: { name: "shop-eu" } },
    }),
  },
  responses: {
    200: oneService("The service as changed."),
    ...errorResponses(["invalid_request", ...ERRORS, "not_found", "name_taken", "payload_too_large", "unsupported_media_type"], {
      ...adminExamples,
      invalid_request: invalidSetting,
      not_found: notFound,
    }),
  },
});

export const deleteServiceRoute = createRoute({
  ...common,
  method: "delete",
  path: "/services/{id}",
  summary: "Delete a service and revoke its keys",
  description:
    "Its keys stop working at once on every instance; calls already ringing still speak its words. Its name is free again. The default service cannot be deleted. Takes an admin key.",
  request: { params: idParam, headers },
  responses: {
    200: oneService("The service deleted, as it was."),
    ...errorResponses(["invalid_request", ...ERRORS, "not_found"], { ...adminExamples, invalid_request: { message: defaultReadOnly("deleted") }, not_found: notFound }),
  },
});
