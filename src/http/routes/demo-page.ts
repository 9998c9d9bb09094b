import { pageRoutes } from "./page-routes.js";

/**
 * GET /demo: a page to try the service in a browser: a number, the call's progress, the
 * code, and the verification token it earns. It talks to /demo/api/* (demo-api.ts).
 * Served only when DEMO_ENABLED (by default: the simulator, outside production); app.ts
 * mounts it then, so otherwise /demo is an unknown route, 404.
 */
export const demoPageRoutes = () =>
  pageRoutes({
    path: "/demo",
    tag: "Demo",
    html: "demo.html",
    files: ["demo.js", "pages.css"],
    summary: "The demo page: call a number, type its code, see the token",
    description:
      "An HTML page for trying the service: it asks for a number, shows the call's progress (and, with the simulator, what the phone heard), checks the code and decodes the verification token. Served only when DEMO_ENABLED (by default with the simulator outside production); otherwise 404.",
    assetSummary: "The demo page's script and styles",
    assetDescription: "The file.",
  });
