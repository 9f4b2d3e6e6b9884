/**
 * The dashboard's static files, embedded at module load through text imports: uPlot's script
 * and stylesheet straight from its npm package (no CDN, no bundler, nothing to build; Deno fetches
 * the package like any other import) and the dashboard's own client files from `client/`.
 */
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import indexHtml from "./client/index.html" with { type: "text" };
import dashboardJs from "./client/dashboard.js" with { type: "text" };
import deltaJs from "./client/delta.js" with { type: "text" };
import driverPlanJs from "./client/driver_plan.js" with { type: "text" };
import renderJs from "./client/render.js" with { type: "text" };
import styleCss from "./client/style.css" with { type: "text" };

/** One static file. */
export interface Asset {
  body: string;
  contentType: string;
}

const js = "text/javascript; charset=utf-8";
const css = "text/css; charset=utf-8";

/** The dashboard page. */
export const INDEX_HTML = indexHtml;

/** Files served under `/dashboard/`, by name. */
export const DASHBOARD_ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["uPlot.iife.min.js", { body: uplotJs, contentType: js }],
  ["uPlot.min.css", { body: uplotCss, contentType: css }],
  ["render.js", { body: renderJs, contentType: js }],
  ["delta.js", { body: deltaJs, contentType: js }],
  ["driver_plan.js", { body: driverPlanJs, contentType: js }],
  ["dashboard.js", { body: dashboardJs, contentType: js }],
  ["style.css", { body: styleCss, contentType: css }],
]);

/** What the self-contained HTML report inlines. */
export const REPORT_ASSETS = { uplotJs, uplotCss, renderJs, styleCss };
