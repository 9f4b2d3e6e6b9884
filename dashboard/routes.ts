/**
 * The web dashboard as a Hono sub-app that the orchestrator mounts at `/`:
 *
 * - `GET /` the page; `GET /dashboard/<file>` its scripts and styles (uPlot from npm included);
 * - `GET /dashboard/events[?test=ID]` server-sent events: a `snapshot` every second (drivers,
 *   history, the test in focus with its time series);
 * - `GET /dashboard/snapshot[?test=ID]` the same snapshot once, as JSON;
 * - `GET /reports/<ID>.html` the self-contained HTML report of a test.
 *
 * Commands (create, trigger, stop) go through the REST API under `/api`, not through here.
 */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { ApiError } from "../shared/api_error.ts";
import { DASHBOARD_ASSETS, INDEX_HTML } from "./assets.ts";
import { renderReportHtml } from "./report_html.ts";
import { buildSnapshot, type DashboardSource } from "./snapshot.ts";

/** What the dashboard is built from. */
export interface DashboardDeps {
  source: DashboardSource;
  now?: () => number;
  /** Push interval of the event stream (default 1000 ms). */
  pushMs?: number;
  /**
   * How long one event stream lasts before the server ends it (default 5 s); the browser's
   * EventSource reconnects at once. Bounded streams keep the server's graceful shutdown short.
   */
  streamLifetimeMs?: number;
  /** Aborting it ends every open event stream (for the server's shutdown). */
  signal?: AbortSignal;
}

/** Builds the dashboard routes; mount them with `app.route("/", createDashboardRoutes(deps))`. */
export function createDashboardRoutes(deps: DashboardDeps): Hono {
  const now = deps.now ?? Date.now;
  const pushMs = deps.pushMs ?? 1000;
  const lifetimeMs = deps.streamLifetimeMs ?? 5_000;
  const app = new Hono();

  app.get("/", (c) => c.html(INDEX_HTML, 200, { "cache-control": "no-cache" }));

  // Browsers ask for it whatever the page says; an empty answer keeps their consoles clean.
  app.get("/favicon.ico", (c) => c.body(null, 204));

  app.get("/dashboard/events", (c) => {
    const focus = c.req.query("test") ?? null;
    return streamSSE(c, async (stream) => {
      const endAt = now() + lifetimeMs;
      let id = 0;
      while (!stream.aborted && !stream.closed && !deps.signal?.aborted) {
        const snapshot = buildSnapshot(deps.source, now(), focus);
        await stream.writeSSE({
          event: "snapshot",
          data: JSON.stringify(snapshot),
          id: String(id++),
          // Tells the browser to come back quickly after the stream's planned end.
          retry: 500,
        });
        if (now() >= endAt) break;
        await stream.sleep(pushMs);
      }
    });
  });

  app.get("/dashboard/snapshot", (c) => {
    return c.json(buildSnapshot(deps.source, now(), c.req.query("test") ?? null));
  });

  app.get("/dashboard/:file", (c) => {
    const asset = DASHBOARD_ASSETS.get(c.req.param("file"));
    if (!asset) return c.json({ error: `No dashboard file ${c.req.param("file")}` }, 404);
    return c.body(asset.body, 200, {
      "content-type": asset.contentType,
      "cache-control": "no-cache",
    });
  });

  app.get("/reports/:file", (c) => {
    const file = c.req.param("file");
    const match = /^(.+)\.html$/.exec(file);
    if (!match) return c.json({ error: `Reports are served as <test_id>.html, not ${file}` }, 404);
    const testId = match[1]!;
    let html: string;
    try {
      const test = deps.source.getTest(testId);
      html = renderReportHtml({ test, timeseries: deps.source.timeseries(testId) });
    } catch (err) {
      if (err instanceof ApiError) return err.getResponse();
      return c.json({ error: (err as Error).message }, 500);
    }
    const download = c.req.query("download") !== undefined;
    return c.html(html, 200, {
      ...(download ? { "content-disposition": `attachment; filename="surge-${testId}.html"` } : {}),
    });
  });

  return app;
}
