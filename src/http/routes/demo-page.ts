import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../env.js";
import { errorResponses } from "../error-docs.js";
import { publicRoute, withRequestId } from "../openapi-route.js";
import { assetNames, pagePolicyHeader, sendAsset, sendPage } from "../page-files.js";

/**
 * GET /demo: a page to try the service in a browser: a number, the call's progress, the
 * code, and the verification token it earns. It talks to /demo/api/* (demo-api.ts).
 * Served only when DEMO_ENABLED (by default: the simulator, outside production); app.ts
 * mounts it then, so otherwise /demo is an unknown route, 404.
 */

const files = assetNames(["demo.js", "pages.css"]);

export const demoPageRoute = createRoute({
  method: "get",
  path: "/demo",
  tags: ["Demo"],
  summary: "The demo page: call a number, type its code, see the token",
  description:
    "An HTML page for trying the service: it asks for a number, shows the call's progress (and, with the simulator, what the phone heard), checks the code and decodes the verification token. Served only when DEMO_ENABLED (by default with the simulator outside production); otherwise 404.",
  security: publicRoute,
  responses: {
    200: { description: "The page.", headers: withRequestId({ "Content-Security-Policy": pagePolicyHeader }), content: { "text/html": { schema: z.string() } } },
    ...errorResponses(["internal_error", "shutting_down"]),
  },
});

export const demoAssetRoute = createRoute({
  method: "get",
  path: "/demo/{file}",
  tags: ["Demo"],
  summary: "The demo page's script and styles",
  security: publicRoute,
  // Any text: a name that is not one of the page's files is answered 404.
  request: { params: z.object({ file: z.string().meta({ param: { example: "demo.js" }, description: `One of ${files.options.join(", ")}.` }) }) },
  responses: {
    200: {
      description: "The file.",
      headers: withRequestId({ "Cache-Control": z.string() }),
      content: { "text/javascript": { schema: z.string() }, "text/css": { schema: z.string() } },
    },
    ...errorResponses(["not_found", "internal_error", "shutting_down"], { not_found: { message: "no route for GET /demo/secrets.txt" } }),
  },
});

export function demoPageRoutes(_deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(demoPageRoute, (c) => sendPage(c, "demo.html"));
  app.openapi(demoAssetRoute, (c) => sendAsset(c, files, c.req.param("file") ?? ""));
  return app;
}
