import { pageRoutes } from "./page-routes.js";

/**
 * GET /admin: the operator's page. It holds nothing itself: it signs in with an admin key
 * (kept in the tab's sessionStorage) and reads the admin API (/services and below) with
 * it, so it is served to anyone, like /docs. Its charts are drawn by uPlot, served from here.
 */
export const adminPageRoutes = () =>
  pageRoutes({
    path: "/admin",
    tag: "Pages",
    html: "admin.html",
    files: ["admin.js", "pages.css", "uPlot.iife.min.js", "uPlot.min.css"],
    summary: "The admin page: recent challenges, charts, services and keys",
    description:
      "An HTML page that signs in with an admin key and shows a service's recent challenges (numbers masked), its calls, answers, approvals and conversion by day and by country, refusals by limit, failing event deliveries, and the services and their keys. It reads the admin API with the key; the page itself needs none.",
    assetSummary: "The admin page's script, styles and chart library",
    assetDescription: "The file (uPlot's from the uplot package).",
  });
