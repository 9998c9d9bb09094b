import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../env.js";
import { serviceStats, type Counts } from "../../otp/stats.js";
import { errorResponses, keyRateLimitedExample } from "../error-docs.js";
import { AppError } from "../errors.js";
import { apiKeySecurity, jsonResponse, requestIdParam } from "../openapi-route.js";
import { parseTime, timeParam } from "../query.js";

const DAY_MS = 86_400_000;
/** The longest range: a year's days, each a group at most, in two statements over one index. */
const MAX_DAYS = 366;

const count = (description: string) => z.number().int().min(0).meta({ description });
const counts = z.object({
  requests: count("Challenges created (a call was asked for and no limit refused it)."),
  calls_placed: count("Of them, calls the carrier accepted."),
  answered: count("Calls picked up, by a person or a machine (in progress, completed, or an answering-machine verdict)."),
  approved: count("Challenges whose code was approved."),
  conversion_rate: z.number().min(0).max(1).meta({ description: "approved / requests; 0 when there were no requests." }),
  median_seconds_to_approval: z.number().nullable().meta({ description: "Median seconds from the request to the approval; null when nothing was approved." }),
  refusals: z.record(z.string(), z.number().int()).meta({
    description: "Requests refused by a limit, by the limit's name (`resend_cooldown`, `attempts_exhausted`, `requests_per_key_per_minute`, …). Kept per UTC day: a range counts its days whole.",
  }),
});

export const statsBody = z
  .object({
    since: z.iso.datetime(),
    until: z.iso.datetime(),
    group_by: z.enum(["day", "country"]),
    groups: z
      .array(counts.extend({ key: z.string().meta({ description: "The UTC day (YYYY-MM-DD) or the number's country (ISO 3166-1 alpha-2; empty when unknown)." }) }))
      .meta({ description: "By day: every day of the range, oldest first, quiet ones too. By country: the countries seen, in alphabetical order." }),
    totals: counts.meta({ description: "The whole range." }),
  })
  .meta({ id: "Stats", description: "The service's verifications over a range." });

type CountsBody = z.infer<typeof counts>;

const exampleCounts = (requests: number, approved: number, extra: Partial<CountsBody> = {}): CountsBody => ({
  requests,
  calls_placed: requests - 1,
  answered: approved + 1,
  approved,
  conversion_rate: requests ? approved / requests : 0,
  median_seconds_to_approval: approved ? 21.5 : null,
  refusals: {},
  ...extra,
});

/** A range of UTC days: GET /stats, and the admin API's statistics and event deliveries. */
export const rangeQuery = z.object({
  since: timeParam("Start of the range (inclusive); default: seven UTC days before `until` (with its default: UTC midnight six days ago).", "2026-11-16"),
  until: timeParam("End of the range (exclusive); default: the end of today (UTC).", "2026-11-23"),
});
export const statsQuery = rangeQuery.extend({
  group_by: z.enum(["day", "country"]).optional().meta({ param: { example: "country" }, description: "`day` (default) or `country`." }),
});

export const statsRoute = createRoute({
  method: "get",
  path: "/stats",
  tags: ["Verification"],
  summary: "The service's statistics by day or by country",
  description: `Requests, calls placed and answered, approvals, conversion, the median time to approval and the limits' refusals, for the key's service, by UTC day or by the number's country, with the range's totals. Default: the last 7 UTC days, today included, by day. At most ${MAX_DAYS} days.`,
  security: apiKeySecurity,
  request: {
    query: statsQuery,
    headers: z.object({ "X-Request-Id": requestIdParam }),
  },
  responses: {
    200: jsonResponse("The statistics.", statsBody, {
      byCountry: {
        summary: "A week by country",
        value: {
          since: "2026-11-16T00:00:00.000Z",
          until: "2026-11-23T00:00:00.000Z",
          group_by: "country",
          groups: [
            { key: "CA", ...exampleCounts(4, 3) },
            { key: "US", ...exampleCounts(40, 31, { refusals: { resend_cooldown: 6, calls_per_number_per_10_min: 1 } }) },
            { key: "", ...exampleCounts(0, 0, { calls_placed: 0, answered: 0, refusals: { requests_per_key_per_minute: 12 } }) },
          ],
          totals: exampleCounts(44, 34, { calls_placed: 42, answered: 36, refusals: { resend_cooldown: 6, calls_per_number_per_10_min: 1, requests_per_key_per_minute: 12 } }),
        },
      },
    }),
    ...errorResponses(["invalid_request", "unauthorized", "cross_origin", "forbidden", "rate_limited", "internal_error", "service_unavailable", "shutting_down"], {
      invalid_request: { message: `until: the range is over ${MAX_DAYS} days; ask for a shorter one`, field: "until" },
      rate_limited: keyRateLimitedExample,
    }),
  },
});

const invalid = (field: string, message: string) => new AppError("invalid_request", `${field}: ${message}`, { field });

const countsBody = (c: Counts): CountsBody => ({
  requests: c.requests,
  calls_placed: c.callsPlaced,
  answered: c.answered,
  approved: c.approved,
  conversion_rate: c.conversionRate,
  median_seconds_to_approval: c.medianSecondsToApproval,
  refusals: c.refusals,
});

/** The range a query asks for; by default whole UTC days: today and the six before it. */
export function rangeOf(q: z.infer<typeof rangeQuery>, now: Date): { since: Date; until: Date } {
  const until = q.until === undefined ? new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS + DAY_MS) : parseTime(q.until)!;
  const since = q.since === undefined ? new Date(Math.floor((until.getTime() - 1) / DAY_MS) * DAY_MS - 6 * DAY_MS) : parseTime(q.since)!;
  if (since >= until) throw invalid("since", "must be before until");
  if (until.getTime() - since.getTime() > MAX_DAYS * DAY_MS) throw invalid("until", `the range is over ${MAX_DAYS} days; ask for a shorter one`);
  return { since, until };
}

/** A service's statistics, as the routes answer them. */
export async function statsOf(deps: AppDeps, serviceId: string, q: z.infer<typeof statsQuery>): Promise<z.infer<typeof statsBody>> {
  const { since, until } = rangeOf(q, deps.clock.now());
  const groupBy = q.group_by ?? "day";
  const stats = await serviceStats(deps.database, serviceId, { since, until, groupBy });
  return {
    since: since.toISOString(),
    until: until.toISOString(),
    group_by: groupBy,
    groups: stats.groups.map(({ key, ...rest }) => ({ key, ...countsBody(rest) })),
    totals: countsBody(stats.totals),
  };
}

export function statsRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(statsRoute, async (c) => c.json(await statsOf(deps, c.get("service").id, c.req.valid("query")), 200));
  return app;
}
