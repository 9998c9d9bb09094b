import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { EVENT_TYPES } from "../../events/outbox.js";
import { errorResponses } from "../error-docs.js";
import { adminKeySecurity, jsonResponse } from "../openapi-route.js";
import { adminExamples, ERRORS, headers, idParam, jsonBody, NOT_FOUND } from "./services.openapi.js";

/**
 * The routes of a service's event webhook, as the OpenAPI document declares them
 * (service-webhook.ts serves them): where its events go, which types, and its secret.
 */

const eventType = z.enum(EVENT_TYPES, { error: () => `not an event type; use one of ${EVENT_TYPES.join(", ")}` });

export const setWebhookBody = z
  .strictObject(
    {
      url: z.string().min(1).max(2048).meta({
        description: "Where the events are POSTed. In production: `https://`, and not a loopback, private or link-local address (unless ALLOW_PRIVATE_WEBHOOKS).",
      }),
      events: z
        .array(eventType)
        .min(1, "give at least one event type, or leave events out for every type")
        .optional()
        .meta({ description: "The event types to send; left out: every type, including types added later." }),
    },
    { error: (issue) => (issue.code === "unrecognized_keys" ? `${issue.keys.join(", ")}: not a field of this body; send url and events` : undefined) },
  )
  .meta({ id: "SetServiceWebhookBody", description: "Where a service's events go and which types. The secret is kept; a first endpoint gets one." });

const timestamp = z.iso.datetime().nullable();

export const webhookView = z
  .object({
    url: z.string(),
    events: z.array(z.string()).nullable().meta({ description: "The event types sent; `null`: every type, including types added later." }),
    disabled_at: timestamp.meta({ description: "When the receiver answered 410 Gone, after which nothing is sent; `null` while it is sent to. Setting the webhook again resumes it." }),
    previous_valid_until: timestamp.meta({
      description: "After a rotation, until when the previous secret still signs beside the new one (every delivery carries both signatures); `null` when no previous secret does.",
    }),
  })
  .meta({ id: "ServiceWebhook", description: "A service's event webhook. Never its secret, which is shown once, when it is made." });

const secret = z.string().meta({ description: "The signing secret (Standard Webhooks, `whsec_…`), shown this once: store it where the receiver checks signatures." });

export const webhookSet = webhookView
  .extend({ secret: secret.optional().meta({ description: "Only when this request made the secret (the service had no webhook): shown this once." }) })
  .meta({ id: "ServiceWebhookSet", description: "The webhook as set; `secret` only when it was just made." });

export const webhookRotated = webhookView.extend({ secret }).meta({ id: "ServiceWebhookRotated", description: "The webhook with its new secret, shown this once." });

export type WebhookBody = z.infer<typeof webhookView>;

const until = "2026-11-23T09:30:00.000Z";
const plain: WebhookBody = { url: "https://shop.example.com/hooks/voice-otp", events: null, disabled_at: null, previous_valid_until: null };
const PICKED = ["call.unanswered", "call.machine", "challenge.approved"] as const;
const picked: WebhookBody = { ...plain, events: [...PICKED] };
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** What PUT, rotate and DELETE say of the default service while the environment sets its webhook. */
export const DEFAULT_WEBHOOK_FROM_ENV =
  "the default service's webhook is set by WEBHOOK_URL, WEBHOOK_SECRET and WEBHOOK_EVENTS: change them and restart (a new WEBHOOK_SECRET is a rotation: the previous one keeps signing for 24 hours)";
export const NO_WEBHOOK = "this service has no webhook; PUT /services/{id}/webhook sets one";

const common = { tags: ["Services"], security: adminKeySecurity };
const params = { params: idParam, headers };
const refusals = (extra: readonly ("invalid_request" | "payload_too_large" | "unsupported_media_type")[], invalid?: string) =>
  errorResponses([...extra, ...ERRORS, "not_found"], {
    ...adminExamples,
    not_found: { message: NOT_FOUND },
    ...(invalid ? { invalid_request: { message: invalid } } : {}),
  });

export const getWebhookRoute = createRoute({
  ...common,
  method: "get",
  path: "/services/{id}/webhook",
  summary: "A service's event webhook",
  description: "Where its events go, which types, whether a 410 stopped them, and how long a rotated-out secret still signs. Never the secret. Takes an admin key.",
  request: params,
  responses: {
    200: jsonResponse("The webhook.", webhookView, {
      all: { summary: "Every event type", value: plain },
      rotating: { summary: "Some types, a day after a rotation", value: { ...picked, previous_valid_until: until } },
    }),
    ...refusals([]),
  },
});

export const setWebhookRoute = createRoute({
  ...common,
  method: "put",
  path: "/services/{id}/webhook",
  summary: "Set where a service's events go",
  description:
    "Sets the URL and the event types, keeping the secret; a service without a webhook gets a new secret, shown this once. Resumes a webhook a 410 had stopped. The default service's, while WEBHOOK_URL is set, is changed through the environment instead. Takes an admin key.",
  request: {
    params: idParam,
    headers,
    body: jsonBody(setWebhookBody, {
      all: { summary: "Every event type", value: { url: plain.url } },
      some: { summary: "Some types", value: { url: plain.url, events: [...PICKED] } },
    }),
  },
  responses: {
    200: jsonResponse("The webhook as set.", webhookSet, {
      first: { summary: "A first webhook: its new secret", value: { ...plain, secret: SECRET } },
      changed: { summary: "Another URL or types: the secret stays", value: picked },
    }),
    ...refusals(["invalid_request", "payload_too_large", "unsupported_media_type"], "url points to 10.0.0.7, a private address: use a public address, or set ALLOW_PRIVATE_WEBHOOKS=true only if the receiver really is on a private network"),
  },
});

export const rotateWebhookRoute = createRoute({
  ...common,
  method: "post",
  path: "/services/{id}/webhook/rotate",
  summary: "Give a service's webhook a new secret",
  description:
    "A new secret, shown this once. The previous one keeps signing beside it until `previous_valid_until` (24 hours): every delivery carries both signatures, so the receiver can switch to the new secret meanwhile without losing an event. Takes an admin key.",
  request: params,
  responses: {
    200: jsonResponse("The webhook and its new secret.", webhookRotated, { rotated: { summary: "A new secret", value: { ...plain, previous_valid_until: until, secret: SECRET } } }),
    ...refusals(["invalid_request"], DEFAULT_WEBHOOK_FROM_ENV),
  },
});

export const deleteWebhookRoute = createRoute({
  ...common,
  method: "delete",
  path: "/services/{id}/webhook",
  summary: "Stop a service's events",
  description: "Removes the webhook: no more events are written for the service, and those already written fail. Takes an admin key.",
  request: params,
  responses: {
    200: jsonResponse("The webhook removed, as it was.", webhookView, { removed: { summary: "The webhook removed", value: plain } }),
    ...refusals(["invalid_request"], DEFAULT_WEBHOOK_FROM_ENV),
  },
});
