/**
 * The API docs at `/api/docs`. No CDN is reachable from where surge runs, so Swagger UI's assets
 * come from the npm package `swagger-ui-dist` (docs_assets.ts) and are served by the orchestrator
 * itself. Without them (an app built without `docsAssets`) a small self-contained page lists the
 * operations from the same OpenAPI document.
 */

/** A static file served under `/api/docs/`. */
export interface DocsAsset {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
}

/** Swagger UI's files, by the name they are served under. */
export type DocsAssets = ReadonlyMap<string, DocsAsset>;

/** The Swagger UI page; it loads the assets above and the OpenAPI document at `specUrl`. */
export function swaggerPage(specUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>surge API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specUrl)}, dom_id: "#swagger-ui" });
</script>
</body>
</html>
`;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** A minimal page listing the operations of an OpenAPI document, for when assets are missing. */
export function fallbackPage(spec: { paths?: Record<string, Record<string, unknown>> }): string {
  const rows: string[] = [];
  for (const [path, ops] of Object.entries(spec.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      const summary = (op as { summary?: string }).summary ?? "";
      rows.push(
        `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${
          escapeHtml(path)
        }</code></td><td>${escapeHtml(summary)}</td></tr>`,
      );
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>surge API</title></head>
<body style="font-family: sans-serif">
<h1>surge API</h1>
<p>The full description is the <a href="/api/openapi.json">OpenAPI document</a>.</p>
<table>${rows.join("\n")}</table>
</body></html>
`;
}
