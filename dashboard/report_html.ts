/**
 * The self-contained HTML report of a test: one file with uPlot, the dashboard's rendering code,
 * its stylesheet and the test's data inlined, so it opens anywhere, offline, years later. The
 * charts and tables are drawn by the same code as the live dashboard (client/render.js).
 */
import type { Report } from "../shared/api.ts";
import { redactTest } from "../shared/redact.ts";
import { REPORT_ASSETS } from "./assets.ts";

/** Text made safe to place in HTML, in an element or a quoted attribute. */
export const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

/**
 * JSON that is safe inside a `<script>` element: `<`, `>`, `&` and the two line separators JS
 * does not accept in strings are escaped, so no data can close the script or start a comment;
 * so are DEL and C1, which JSON leaves raw, so the file is also safe to print on a terminal.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Inline script text cannot contain `</script`; library code is escaped the same way. */
const inlineScript = (code: string) => code.replace(/<\/(script)/gi, "<\\/$1");
const inlineStyle = (code: string) => code.replace(/<\/(style)/gi, "<\\/$1");

/**
 * Renders the report of one test (`GET /api/tests/{id}/report`) as a complete HTML document.
 * Secrets are redacted and the request body left out: the file is made to be passed on, to
 * readers who need not hold the API token (README "Security", "Secrets").
 */
export function renderReportHtml(report: Report): string {
  const data = { ...report, test: redactTest(report.test, { showBody: false }) };
  const { test } = data;
  const title = `surge report — ${test.test_id}`;
  const a = REPORT_ASSETS;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="surge">
<title>${escapeHtml(title)}</title>
<style>${inlineStyle(a.uplotCss)}</style>
<style>${inlineStyle(a.styleCss)}</style>
</head>
<body class="report">
<header><h1>surge</h1><span class="tagline">load test report</span></header>
<main>
<section class="card"><h2>Test</h2><div id="summary"></div></section>
<section class="card"><h2>Results</h2><div id="tiles"></div><div id="stats"></div></section>
<section class="card"><h2>Over time</h2><div id="charts"></div></section>
</main>
<script id="surge-data" type="application/json">${scriptJson(data)}</script>
<script>${inlineScript(a.uplotJs)}</script>
<script>${inlineScript(a.renderJs)}</script>
<script>
"use strict";
(() => {
  const S = globalThis.Surge;
  const { test, timeseries } = JSON.parse(document.getElementById("surge-data").textContent);
  const when = (iso) => iso ? new Date(iso).toLocaleString() : "–";
  const rows = [
    ["test id", "<code>" + S.esc(test.test_id) + "</code>"],
    ["state", '<span class="badge state ' + S.esc(test.state) + '">' + S.esc(test.state) +
      "</span>" + (test.reason ? ' <span class="muted">(' + S.esc(test.reason) + ")</span>" : "")],
    ["type", S.esc(test.config.test_type.toLowerCase())],
    ["configuration", S.esc(S.describeConfig(test.config))],
    ["drivers", S.esc(Object.keys(test.drivers).join(", ") || "none")],
    ["created", S.esc(when(test.created_at))],
    ["triggered", S.esc(when(test.triggered_at))],
    ["ended", S.esc(when(test.ended_at))],
    ["duration", S.esc(test.overall.elapsed_s.toFixed(1) + " s")],
  ];
  document.getElementById("summary").innerHTML = "<dl>" +
    rows.map(([k, v]) => "<dt>" + k + "</dt><dd>" + v + "</dd>").join("") + "</dl>";
  document.getElementById("tiles").innerHTML = S.overallTiles(test);
  document.getElementById("stats").innerHTML = S.statsTable(test);
  S.mountCharts(document.getElementById("charts"), timeseries);
})();
</script>
</body>
</html>
`;
}
