import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { maskNumber } from "../../phone.js";
import { errorResponses } from "../error-docs.js";
import { adminKeySecurity, jsonResponse } from "../openapi-route.js";
import { challengeView } from "../responses.js";
import { challengeExamples } from "./challenges.js";
import { listQuery } from "./challenge-list.js";
import { adminExamples, ERRORS, headers, idParam, NOT_FOUND } from "./services.openapi.js";
import { rangeQuery, statsBody, statsQuery } from "./stats.js";

/**
 * What a service has been doing, for an operator with an admin key (the /admin page): its
 * challenges, statistics, event deliveries and keys. A service's own key reads its own
 * through /challenges and /stats; these take the service's id, so they are the admin API's.
 */

const timestamp = z.iso.datetime().meta({ description: "ISO 8601, UTC." });
const common = { tags: ["Services"], security: adminKeySecurity };
const notFound = { not_found: { message: NOT_FOUND } };
const errors = errorResponses(["invalid_request", ...ERRORS, "not_found"], {
  ...adminExamples,
  ...notFound,
  invalid_request: { message: "until: the range is over 366 days; ask for a shorter one", field: "until" },
});

const maskedChallenge = challengeView
  .extend({ number: z.string().meta({ description: "Masked (`+1415•••0123`): enough to tell numbers apart, not to call one." }) })
  .meta({ id: "MaskedChallenge", description: "A challenge as GET /challenges/{id} shows it, its number masked. Never the code." });

const maskedPage = z
  .object({
    challenges: z.array(maskedChallenge).meta({ description: "Newest first." }),
    next_cursor: z.string().nullable().meta({ description: "Pass it as `cursor` for the next page; null on the last page." }),
  })
  .meta({ id: "MaskedChallengePage", description: "A page of a service's challenges, numbers masked." });

const masked = <T extends { number: string }>(c: T): T => ({ ...c, number: maskNumber(c.number) });

export const serviceChallengesRoute = createRoute({
  ...common,
  method: "get",
  path: "/services/{id}/challenges",
  summary: "A service's challenges, newest first, numbers masked",
  description: "As GET /challenges lists them for a key of the service, with each number masked: an operator tells numbers apart without holding them (`number=` still finds one number's). Takes an admin key.",
  request: { params: idParam, query: listQuery, headers },
  responses: {
    200: jsonResponse("A page of challenges.", maskedPage, {
      page: { summary: "The last page", value: { challenges: [masked(challengeExamples.approved.value), masked(challengeExamples.busy.value)], next_cursor: null } },
    }),
    ...errors,
  },
});

const dayCounts = (requests: number, approved: number) => ({
  requests,
  calls_placed: requests,
  answered: approved,
  approved,
  conversion_rate: requests ? approved / requests : 0,
  median_seconds_to_approval: approved ? 18.2 : null,
  refusals: {},
});

export const serviceStatsRoute = createRoute({
  ...common,
  method: "get",
  path: "/services/{id}/stats",
  summary: "A service's statistics by day or by country",
  description: "As GET /stats answers a key of the service. Takes an admin key.",
  request: { params: idParam, query: statsQuery, headers },
  responses: {
    200: jsonResponse("The statistics.", statsBody, {
      twoDays: {
        summary: "Two days by day",
        value: {
          since: "2026-11-21T00:00:00.000Z",
          until: "2026-11-23T00:00:00.000Z",
          group_by: "day",
          groups: [
            { key: "2026-11-21", ...dayCounts(3, 2) },
            { key: "2026-11-22", ...dayCounts(5, 4), refusals: { resend_cooldown: 2 } },
          ],
          totals: { ...dayCounts(8, 6), refusals: { resend_cooldown: 2 } },
        },
      },
    }),
    ...errors,
  },
});

const storedEvent = z.object({
  id: z.string().meta({ description: "The event's id: the `webhook-id` of its deliveries." }),
  type: z.string(),
  challenge_id: z.string().nullable(),
  state: z.enum(["pending", "failed"]).meta({ description: "`pending`: retried with backoff; `failed`: given up (`voice-otp events retry ID` sends it again)." }),
  attempts: z.number().int(),
  last_status: z.number().int().nullable().meta({ description: "The HTTP status of the last answer; null when there was none (a timeout, a refused connection)." }),
  last_error: z.string().nullable().meta({ description: "What went wrong with the last attempt." }),
  created_at: timestamp,
  next_attempt_at: timestamp.nullable().meta({ description: "When it is tried again; null once given up." }),
});

export const deliveriesBody = z
  .object({
    since: timestamp,
    until: timestamp,
    days: z
      .array(
        z.object({
          day: z.string().meta({ description: "The UTC day the events were written (YYYY-MM-DD)." }),
          delivered: z.number().int(),
          retrying: z.number().int().meta({ description: "Still pending after a failed attempt." }),
          failed: z.number().int().meta({ description: "Given up after a day of retries." }),
        }),
      )
      .meta({ description: "Every day of the range, oldest first, quiet ones too." }),
    failing: z.array(storedEvent).meta({ description: "The range's newest events whose delivery is failing (at most 20)." }),
  })
  .meta({ id: "EventDeliveries", description: "How a service's event deliveries went, per day, and those that are failing." });

export const serviceDeliveriesRoute = createRoute({
  ...common,
  method: "get",
  path: "/services/{id}/event-deliveries",
  summary: "A service's event deliveries by day, and those failing",
  description: "The events written for the service's webhook, per UTC day of their writing: delivered, retrying after a failed attempt, failed; and the newest failing ones with the last answer's status or error. Default: the last 7 UTC days. Takes an admin key.",
  request: { params: idParam, query: rangeQuery, headers },
  responses: {
    200: jsonResponse("The deliveries.", deliveriesBody, {
      failing: {
        summary: "A receiver down since yesterday",
        value: {
          since: "2026-11-21T00:00:00.000Z",
          until: "2026-11-23T00:00:00.000Z",
          days: [
            { day: "2026-11-21", delivered: 14, retrying: 0, failed: 0 },
            { day: "2026-11-22", delivered: 3, retrying: 6, failed: 0 },
          ],
          failing: [
            {
              id: "msg_a81e3c7d2f904b6e9d1c5a7f3e2b8d06",
              type: "challenge.approved",
              challenge_id: "ch_w_pghrJuwBSBg7x0NbcBpA",
              state: "pending",
              attempts: 4,
              last_status: 503,
              last_error: null,
              created_at: "2026-11-22T23:55:59.000Z",
              next_attempt_at: "2026-11-23T00:03:12.000Z",
            },
          ],
        },
      },
    }),
    ...errors,
  },
});

const keyView = z.object({
  name: z.string().meta({ description: "A database key's name, or `env:<8 hex>` (a prefix of the SHA-256 of a key from API_KEYS): never the key." }),
  source: z.enum(["environment", "database"]).meta({ description: "API_KEYS, or `voice-otp keys create`." }),
  rate_per_minute: z.number().int().nullable().meta({ description: "Its own request budget; null: REQUESTS_PER_KEY_PER_MINUTE." }),
  created_at: timestamp.nullable().meta({ description: "null for a key from the environment." }),
  revoked_at: timestamp.nullable(),
});

export const keysBody = z
  .object({ keys: z.array(keyView).meta({ description: "The service's keys, revoked ones too: those from API_KEYS first (default service), then by creation." }) })
  .meta({ id: "ServiceKeys", description: "The keys a service's requests come with. Never a key itself: they are stored as hashes." });

export const serviceKeysRoute = createRoute({
  ...common,
  method: "get",
  path: "/services/{id}/keys",
  summary: "A service's API keys, by name",
  description: "Names and dates only: a key is shown once, when `voice-otp keys create` makes it. Admin keys act in no service and are not listed. Takes an admin key.",
  request: { params: idParam, headers },
  responses: {
    200: jsonResponse("The keys.", keysBody, {
      keys: {
        summary: "A key from API_KEYS and two from the database",
        value: {
          keys: [
            { name: "env:5f2b9c1d", source: "environment", rate_per_minute: null, created_at: null, revoked_at: null },
            { name: "billing-backend", source: "database", rate_per_minute: 600, created_at: "2026-11-02T10:00:00.000Z", revoked_at: null },
            { name: "old-backend", source: "database", rate_per_minute: null, created_at: "2026-10-01T10:00:00.000Z", revoked_at: "2026-11-02T10:05:00.000Z" },
          ],
        },
      },
    }),
    ...errorResponses([...ERRORS, "not_found"], { ...adminExamples, ...notFound }),
  },
});
