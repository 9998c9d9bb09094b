import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppDeps, AppEnv } from "../env.js";
import { errorResponses } from "../error-docs.js";
import { AppError } from "../errors.js";
import { publicRoute, withRequestId } from "../openapi-route.js";
import type { OpenAPIDocument } from "../openapi.js";

/**
 * The API's own description: GET /openapi.json, and GET /docs, a Swagger UI page
 * whose scripts and styles come from the swagger-ui-dist package through this
 * service (no CDN, no inline script: it works offline and under a `script-src 'self'`
 * policy). Public, like any API reference: it holds no secret, only the routes.
 * The assets are read from disk when asked for, so they cost no memory at startup.
 */

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>voice-otp API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<link rel="icon" type="image/png" href="docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`;

// Relative to the page, so the page works behind a proxy that mounts the service under a path.
const INIT = `window.ui = SwaggerUIBundle({ url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true });\n`;

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};
const assetName = z.enum(["init.js", ...Object.keys(ASSETS)] as [string, ...string[]]);

/** The page's own policy: its files from here, requests ("Try it out") to here and to PUBLIC_BASE_URL, nothing else. */
const pagePolicy = (publicBaseUrl: string) =>
  [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${new URL(publicBaseUrl).origin}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");

let assetDir: string | undefined;
const swaggerUiDir = () => (assetDir ??= dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json")));

export const openapiJsonRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  tags: ["Documentation"],
  summary: "This API's OpenAPI 3.1 document",
  description: "Generated from the same zod schemas that validate the requests. `servers` is PUBLIC_BASE_URL. No key needed.",
  security: publicRoute,
  responses: {
    200: {
      description: "The OpenAPI document.",
      headers: withRequestId(),
      content: { "application/json": { schema: z.object({ openapi: z.string() }).catchall(z.unknown()) } },
    },
    ...errorResponses(["shutting_down"]),
  },
});

export const docsRoute = createRoute({
  method: "get",
  path: "/docs",
  tags: ["Documentation"],
  summary: "The interactive API reference (Swagger UI)",
  description: "An HTML page that renders /openapi.json; its assets are served from /docs/{file}. No key needed.",
  security: publicRoute,
  responses: {
    200: {
      description: "The reference page.",
      headers: withRequestId({ "Content-Security-Policy": z.string().meta({ description: "Scripts and styles from this service only; requests to it and to PUBLIC_BASE_URL." }) }),
      content: { "text/html": { schema: z.string() } },
    },
    ...errorResponses(["shutting_down"]),
  },
});

export const docsAssetRoute = createRoute({
  method: "get",
  path: "/docs/{file}",
  tags: ["Documentation"],
  summary: "The reference page's scripts, styles and icons",
  security: publicRoute,
  // Any text: a file that is not one of the page's is answered 404.
  request: { params: z.object({ file: z.string().meta({ param: { example: "swagger-ui.css" }, description: `One of ${assetName.options.join(", ")}.` }) }) },
  responses: {
    200: {
      description: "The file, from the swagger-ui-dist package (init.js is this service's).",
      headers: withRequestId({ "Cache-Control": z.string() }),
      content: { "text/javascript": { schema: z.string() }, "text/css": { schema: z.string() }, "image/png": { schema: z.string() } },
    },
    ...errorResponses(["not_found", "internal_error", "shutting_down"], { not_found: { message: "no route for GET /docs/swagger-ui.js.map" } }),
  },
});

export function docsRoutes(deps: AppDeps, document: (baseUrl: string) => Promise<OpenAPIDocument>) {
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(openapiJsonRoute, async (c) => c.json(await document(deps.publicBaseUrl()), 200));
  app.openapi(docsRoute, (c) => c.html(PAGE, 200, { "Content-Security-Policy": pagePolicy(deps.publicBaseUrl()) }));
  app.openapi(docsAssetRoute, async (c) => {
    const file = c.req.param("file") ?? "";
    if (!assetName.safeParse(file).success) throw new AppError("not_found", `no route for GET ${c.req.path}`);
    const cache = { "Cache-Control": "public, max-age=3600" };
    if (file === "init.js") return c.body(INIT, 200, { ...cache, "Content-Type": "text/javascript; charset=utf-8" });
    const bytes = await readFile(join(swaggerUiDir(), file));
    return c.body(new Uint8Array(bytes), 200, { ...cache, "Content-Type": ASSETS[file]! });
  });
  return app;
}
