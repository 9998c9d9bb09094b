import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "./env.js";
import { AppError } from "./errors.js";

/**
 * The files of the browser pages (/demo, /admin): plain HTML, JavaScript and CSS kept in
 * the package's pages/ folder, and uPlot's two files from its package. Each page serves a
 * fixed list of names, so a request can name nothing else (no path is ever joined from
 * the URL), and every file is read from disk when asked for, as /docs does.
 */

/** The pages/ folder at the package root, found from this file whether run from src/ or a build (as drizzle/ is). */
function pagesFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, "pages");
    if (existsSync(join(candidate, "pages.css"))) return candidate;
    dir = dirname(dir);
  }
  throw new Error("pages/ folder not found next to the package; reinstall voice-otp");
}

let pagesDir: string | undefined;
let uplotDir: string | undefined;
const own = (name: string) => join((pagesDir ??= pagesFolder()), name);
const uplot = (name: string) => join((uplotDir ??= join(dirname(createRequire(import.meta.url).resolve("uplot/package.json")), "dist")), name);

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** Every file a page may serve: where it is, its type, and whether it changes with each release of voice-otp. */
const FILES: Record<string, { path: () => string; type: string; vendor?: true }> = {
  "pages.css": { path: () => own("pages.css"), type: CSS },
  "demo.js": { path: () => own("demo.js"), type: JS },
  "admin.js": { path: () => own("admin.js"), type: JS },
  "uPlot.iife.min.js": { path: () => uplot("uPlot.iife.min.js"), type: JS, vendor: true },
  "uPlot.min.css": { path: () => uplot("uPlot.min.css"), type: CSS, vendor: true },
};

/**
 * The pages' policy: scripts, styles and requests to this origin only, no inline script or
 * style in the HTML, no frames, no form posting anywhere (the scripts send the forms).
 */
export const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The header a page's route documents. */
export const pagePolicyHeader = z.string().meta({ description: "Scripts, styles and requests to this service only; no inline script." });

/** A page's own assets, by name: the `file` parameter's schema. */
export function assetNames<const N extends string>(names: readonly N[]) {
  for (const name of names) if (!FILES[name]) throw new Error(`no page file ${name}`);
  return z.enum(names as [N, ...N[]]);
}

/** The HTML page itself: never cached, so a new release's page and scripts arrive together. */
export async function sendPage(c: Context<AppEnv>, html: string) {
  const text = await readFile(own(html), "utf8");
  return c.html(text, 200, { "Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store" });
}

/** One of the page's files, or 404 for any other name. */
export async function sendAsset(c: Context<AppEnv>, names: z.ZodEnum, file: string) {
  if (!names.safeParse(file).success) throw new AppError("not_found", `no route for GET ${c.req.path}`);
  const entry = FILES[file]!;
  const bytes = await readFile(entry.path());
  return c.body(new Uint8Array(bytes), 200, {
    "Content-Type": entry.type,
    // uPlot's files change only with its version; ours with voice-otp's, so they are checked each time.
    "Cache-Control": entry.vendor ? "public, max-age=3600" : "no-cache",
    "X-Content-Type-Options": "nosniff",
  });
}
