import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../env.js";
import { errorResponses } from "../error-docs.js";
import { publicRoute, withRequestId } from "../openapi-route.js";
import { assetNames, pagePolicyHeader, sendAsset, sendPage } from "../page-files.js";

/**
 * GET /admin: the operator's page. It holds nothing itself: it signs in with an admin key
 * (kept in the tab's sessionStorage) and reads the admin API (/services and below) with
 * it, so it is served to anyone, like /docs. Its charts are drawn by uPlot, served from here.
 */

const files = assetNames(["admin.js", "pages.css", "uPlot.iife.min.js", "uPlot.min.css"]);

export const adminPageRoute = createRoute({
  method: "get",
  path: "/admin",
  tags: ["Pages"],
  summary: "The admin page: recent challenges, charts, services and keys",
  description:
    "An HTML page that signs in with an admin key and shows a service's recent challenges (numbers masked), its calls, answers, approvals and conversion by day and by country, refusals by limit, failing event deliveries, and the services and their keys. It reads the admin API with the key; the page itself needs none.",
  security: publicRoute,
  responses: {
    200: { description: "The page.", headers: withRequestId({ "Content-Security-Policy": pagePolicyHeader }), content: { "text/html": { schema: z.string() } } },
    ...errorResponses(["internal_error", "shutting_down"]),
  },
});

export const adminAssetRoute = createRoute({
  method: "get",
  path: "/admin/{file}",
  tags: ["Pages"],
  summary: "The admin page's script, styles and chart library",
  security: publicRoute,
  // Any text: a name that is not one of the page's files is answered 404.
  request: { params: z.object({ file: z.string().meta({ param: { example: "admin.js" }, description: `One of ${files.options.join(", ")}.` }) }) },
  responses: {
    200: {
      description: "The file (uPlot's from the uplot package).",
      headers: withRequestId({ "Cache-Control": z.string() }),
      content: { "text/javascript": { schema: z.string() }, "text/css": { schema: z.string() } },
    },
    ...errorResponses(["not_found", "internal_error", "shutting_down"], { not_found: { message: "no route for GET /admin/secrets.txt" } }),
  },
});

export function adminPageRoutes(_deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(adminPageRoute, (c) => sendPage(c, "admin.html"));
  app.openapi(adminAssetRoute, (c) => sendAsset(c, files, c.req.param("file") ?? ""));
  return app;
}
