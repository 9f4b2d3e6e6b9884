/**
 * The dashboard's login page (`GET /login`): one field for the API token, posted to `/login`,
 * which answers with the token in an HttpOnly cookie (orchestrator/api_access.ts). It uses the
 * dashboard's own stylesheet and no script.
 */
import { escapeHtml } from "./report_html.ts";

/** The page; `next` is where a successful login goes, `error` a line to show above the form. */
export function loginPage(next: string, error?: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>surge: log in</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/dashboard/style.css">
  </head>
  <body>
    <header>
      <h1>surge</h1>
      <span class="tagline">distributed HTTP load testing</span>
    </header>
    <main style="display: block; max-width: 32rem; margin: 2rem auto">
      <section class="card">
        <h2>Log in</h2>
        <p>The dashboard needs the orchestrator's API token: <code>SURGE_API_TOKEN</code>, or the
        file <code>api_token</code> in its data dir (<code>.data/orchestrator</code> by default).
        <code>deno task up</code> prints it.</p>
        ${error ? `<p id="login-error" class="error" role="alert">${escapeHtml(error)}</p>` : ""}
        <form method="post" action="/login">
          <input type="hidden" name="next" value="${escapeHtml(next)}">
          <label>API token
            <input type="password" name="token" autocomplete="current-password" required autofocus>
          </label>
          <div class="buttons"><button type="submit" id="login">Log in</button></div>
        </form>
      </section>
    </main>
  </body>
</html>
`;
}
