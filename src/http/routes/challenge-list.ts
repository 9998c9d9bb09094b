import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../env.js";
import { decodeCursor, encodeCursor, listChallenges } from "../../otp/list.js";
import { parsePhone } from "../../phone.js";
import { errorResponses, keyRateLimitedExample } from "../error-docs.js";
import { AppError } from "../errors.js";
import { apiKeySecurity, jsonResponse, requestIdParam } from "../openapi-route.js";
import { parseTime, timeParam } from "../query.js";
import { challengeView } from "../responses.js";
import { challengeBody, challengeExamples } from "./challenges.js";

export const challengePage = z
  .object({
    challenges: z.array(challengeView).meta({ description: "Newest first." }),
    next_cursor: z.string().nullable().meta({ description: "Pass it as `cursor` for the next page; null on the last page." }),
  })
  .meta({ id: "ChallengePage", description: "A page of the service's challenges. Never a code." });

const busy = challengeExamples.busy.value;

/** The list's query string, for GET /challenges and the admin API's GET /services/{id}/challenges. */
export const listQuery = z.object({
  number: z.string().trim().min(1).max(32).optional().meta({
    param: { example: "+14155550123" },
    description: "Only this number's: E.164, or a national number in DEFAULT_COUNTRY (encode `+` as `%2B`).",
  }),
  status: challengeView.shape.status.optional().meta({
    param: { example: "pending" },
    description: "Only those in this status, as GET /challenges/{id} shows it (a pending challenge past its expiry is `expired`).",
  }),
  since: timeParam("Only those created at or after this instant.", "2026-11-22"),
  until: timeParam("Only those created before this instant.", "2026-11-23T00:00:00Z"),
  limit: z.coerce.number().int().min(1).max(100).optional().meta({ param: { example: 20 }, description: "Challenges per page, 1-100; default 20." }),
  cursor: z.string().max(200).optional().meta({ description: "The `next_cursor` of the previous page." }),
});

export const listRoute = createRoute({
  method: "get",
  path: "/challenges",
  tags: ["Verification"],
  summary: "The service's challenges, newest first",
  description:
    "The key's service's challenges, newest first, a page at a time: follow `next_cursor` until it is null. Pages do not shift when challenges are created meanwhile (those appear on a new first page). Never the code.",
  security: apiKeySecurity,
  request: {
    query: listQuery,
    headers: z.object({ "X-Request-Id": requestIdParam }),
  },
  responses: {
    200: jsonResponse("A page of challenges.", challengePage, {
      page: {
        summary: "A first page with more after it",
        value: { challenges: [challengeExamples.approved.value, busy], next_cursor: encodeCursor({ createdAt: new Date(busy.created_at), id: busy.id }) },
      },
      last: { summary: "The last page", value: { challenges: [], next_cursor: null } },
    }),
    ...errorResponses(["invalid_request", "unauthorized", "cross_origin", "forbidden", "rate_limited", "internal_error", "service_unavailable", "shutting_down"], {
      invalid_request: { message: "cursor: not a cursor this service gave; start again without it", field: "cursor" },
      rate_limited: keyRateLimitedExample,
    }),
  },
});

const invalid = (field: string, message: string) => new AppError("invalid_request", `${field}: ${message}`, { field });

export type ListQueryParams = z.infer<typeof listQuery>;

/** One page of a service's challenges, as the routes answer it. */
export async function challengePageOf(deps: AppDeps, serviceId: string, q: ListQueryParams): Promise<z.infer<typeof challengePage>> {
  let number: string | undefined;
  if (q.number !== undefined) {
    const parsed = parsePhone(q.number, deps.config.defaultCountry);
    if (!parsed.ok) throw invalid("number", parsed.reason);
    number = parsed.phone.e164;
  }
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
  if (after === null) throw invalid("cursor", "not a cursor this service gave; start again without it");
  const page = await listChallenges(deps.otp, serviceId, {
    number,
    status: q.status,
    since: q.since === undefined ? undefined : parseTime(q.since)!,
    until: q.until === undefined ? undefined : parseTime(q.until)!,
    limit: q.limit ?? 20,
    after,
  });
  return { challenges: page.challenges.map(challengeBody), next_cursor: page.next ? encodeCursor(page.next) : null };
}

export function challengeListRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(listRoute, async (c) => c.json(await challengePageOf(deps, c.get("service").id, c.req.valid("query")), 200));
  return app;
}
