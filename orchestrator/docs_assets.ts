/**
 * Swagger UI's bundle and stylesheet, embedded at module load through text imports from the npm
 * package `swagger-ui-dist`, as the dashboard embeds uPlot (dashboard/assets.ts). Deno loads them
 * with the module graph, so the orchestrator needs no read access outside its data dir to serve
 * `/api/docs` (README "Security", "Least privilege").
 */
import bundleJs from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import uiCss from "swagger-ui-dist/swagger-ui.css" with { type: "text" };
import type { DocsAssets } from "./docs_page.ts";

const encoder = new TextEncoder();

/** Swagger UI's files, by the name they are served under. */
export const DOCS_ASSETS: DocsAssets = new Map([
  ["swagger-ui-bundle.js", {
    body: encoder.encode(bundleJs),
    contentType: "text/javascript; charset=utf-8",
  }],
  ["swagger-ui.css", { body: encoder.encode(uiCss), contentType: "text/css; charset=utf-8" }],
]);
