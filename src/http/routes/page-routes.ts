import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../env.js";
import { errorResponses } from "../error-docs.js";
import { publicRoute, withRequestId } from "../openapi-route.js";
import { assetNames, pagePolicyHeader, sendAsset, sendPage } from "../page-files.js";

interface PageSpec<N extends string> {
  /** The page's path, e.g. /demo; its files are served below it. */
  path: string;
  tag: string;
  html: string;
  /** The only names GET {path}/{file} answers. */
  files: readonly N[];
  summary: string;
  description: string;
  assetSummary: string;
  assetDescription: string;
}

/** GET {path} (the HTML page) and GET {path}/{file} (its fixed list of files), declared for the OpenAPI document. */
export function pageRoutes<N extends string>(spec: PageSpec<N>) {
  const files = assetNames(spec.files);
  const pageRoute = createRoute({
    method: "get",
    path: spec.path,
    tags: [spec.tag],
    summary: spec.summary,
    description: spec.description,
    security: publicRoute,
    responses: {
      200: { description: "The page.", headers: withRequestId({ "Content-Security-Policy": pagePolicyHeader }), content: { "text/html": { schema: z.string() } } },
      ...errorResponses(["internal_error", "shutting_down"]),
    },
  });
  const assetRoute = createRoute({
    method: "get",
    path: `${spec.path}/{file}`,
    tags: [spec.tag],
    summary: spec.assetSummary,
    security: publicRoute,
    // Any text: a name that is not one of the page's files is answered 404.
    request: { params: z.object({ file: z.string().meta({ param: { example: spec.files[0] }, description: `One of ${files.options.join(", ")}.` }) }) },
    responses: {
      200: {
        description: spec.assetDescription,
        headers: withRequestId({ "Cache-Control": z.string() }),
        content: { "text/javascript": { schema: z.string() }, "text/css": { schema: z.string() } },
      },
      ...errorResponses(["not_found", "internal_error", "shutting_down"], { not_found: { message: `no route for GET ${spec.path}/secrets.txt` } }),
    },
  });
  const app = new OpenAPIHono<AppEnv>();
  app.openapi(pageRoute, (c) => sendPage(c, spec.html));
  app.openapi(assetRoute, (c) => sendAsset(c, files, c.req.param("file") ?? ""));
  return app;
}
