/**
 * The web dashboard as a Hono sub-app that the orchestrator mounts at `/`:
 *
 * - `GET /` the page; `GET /dashboard/<file>` its scripts and styles (uPlot from npm included);
 * - `GET /dashboard/events[?test=ID]` server-sent events: a `snapshot` (drivers, history, the
 *   test in focus with its time series), then every second a `delta` of what changed
 *   (snapshot_delta.ts); at most {@link MAX_EVENT_STREAMS} at once, the next one gets 503;
 * - `GET /dashboard/snapshot[?test=ID]` the same snapshot once, as JSON;
 * - `GET /reports/<ID>.html` the self-contained HTML report of a test.
 *
 * Commands (create, trigger, stop) go through the REST API under `/api`, not through here. Who
 * may read these routes is decided in front of them (orchestrator/api_access.ts): all but the
 * static files need the API token or the dashboard's login cookie.
 */
import { Hono } from "hono";
import { type SSEMessage, type SSEStreamingApi, streamSSE } from "hono/streaming";
import type { Snapshot } from "../shared/api.ts";
import { ApiError } from "../shared/api_error.ts";
import { DASHBOARD_ASSETS, INDEX_HTML } from "./assets.ts";
import { renderReportHtml } from "./report_html.ts";
import { buildSnapshot, type DashboardSource } from "./snapshot.ts";
import { diffSnapshot } from "./snapshot_delta.ts";

/**
 * How many event streams may be open at once. Each one rebuilds the snapshot every second and
 * keeps the last one it sent; 32 is far more dashboards than one load test has watchers, and
 * bounds that work and memory whatever connects.
 */
export const MAX_EVENT_STREAMS = 32;

/** What the dashboard is built from. */
export interface DashboardDeps {
  source: DashboardSource;
  now?: () => number;
  /** Push interval of the event stream (default 1000 ms). */
  pushMs?: number;
  /**
   * How long one event stream lasts before the server ends it (default 30 s); the browser's
   * EventSource reconnects at once and gets a whole snapshot again. Bounded streams keep a
   * graceful shutdown without `signal` finite.
   */
  streamLifetimeMs?: number;
  /** Open event streams allowed at once (default {@link MAX_EVENT_STREAMS}). */
  maxStreams?: number;
  /**
   * A push still not taken by the connection after this long (default 10 s) means the client
   * stopped reading: its stream is ended, so it cannot hold one of the streams forever.
   */
  writeTimeoutMs?: number;
  /** Aborting it ends every open event stream (for the server's shutdown). */
  signal?: AbortSignal;
}

/** Builds the dashboard routes; mount them with `app.route("/", createDashboardRoutes(deps))`. */
export function createDashboardRoutes(deps: DashboardDeps): Hono {
  const now = deps.now ?? Date.now;
  const pushMs = deps.pushMs ?? 1000;
  const lifetimeMs = deps.streamLifetimeMs ?? 30_000;
  const maxStreams = deps.maxStreams ?? MAX_EVENT_STREAMS;
  const writeTimeoutMs = deps.writeTimeoutMs ?? 10_000;
  let streams = 0;
  const app = new Hono();

  app.get("/", (c) => c.html(INDEX_HTML, 200, { "cache-control": "no-cache" }));

  // Browsers ask for it whatever the page says; an empty answer keeps their consoles clean.
  app.get("/favicon.ico", (c) => c.body(null, 204));

  app.get("/dashboard/events", (c) => {
    if (streams >= maxStreams) {
      return new ApiError(503, `Too many dashboard event streams: at most ${maxStreams} at once`)
        .getResponse();
    }
    streams++;
    const focus = c.req.query("test") ?? null;
    return streamSSE(c, async (stream) => {
      try {
        const endAt = now() + lifetimeMs;
        let sent: Snapshot | undefined;
        for (let id = 0; !stream.aborted && !stream.closed && !deps.signal?.aborted; id++) {
          const snapshot = buildSnapshot(deps.source, now(), focus);
          const message: SSEMessage = sent === undefined
            // Tells the browser to come back quickly after the stream's planned end.
            ? { event: "snapshot", data: JSON.stringify(snapshot), id: String(id), retry: 500 }
            : {
              event: "delta",
              data: JSON.stringify(diffSnapshot(sent, snapshot)),
              id: String(id),
            };
          if (!await push(stream, message, writeTimeoutMs)) break;
          sent = snapshot;
          if (now() >= endAt) break;
          await stream.sleep(pushMs);
        }
      } finally {
        streams--;
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

/** Writes one event; false (and the stream aborted) when the client has not taken it in time. */
async function push(stream: SSEStreamingApi, message: SSEMessage, timeoutMs: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<false>((resolve) => timer = setTimeout(resolve, timeoutMs, false));
  const written = await Promise.race([stream.writeSSE(message).then(() => true), stalled]);
  clearTimeout(timer);
  if (!written) stream.abort();
  return written && !stream.aborted;
}
