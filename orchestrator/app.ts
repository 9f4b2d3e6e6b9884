/**
 * The orchestrator's REST API: a Hono app built by {@link createOrchestratorApp} around a
 * controller. Bodies are validated with the zod schemas of shared/api.ts, the OpenAPI document
 * at `/api/openapi.json` is generated from the same schemas, and every error answer is an
 * {@link ApiError} in one JSON shape: `{"error": "...", "problems"?: [{"field", "message"}]}`.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { createDashboardRoutes } from "../dashboard/routes.ts";
import { ApiError } from "../shared/api_error.ts";
import type { Logger } from "../shared/log.ts";
import { type ApiAccess, loginRoutes, requireAccess } from "./api_access.ts";
import { createHandlers, type HandlerDeps } from "./api_handlers.ts";
import { routes } from "./api_routes.ts";
import { limitBody } from "./body_limit.ts";
import { type DocsAssets, fallbackPage, swaggerPage } from "./docs_page.ts";
import { ConflictError, NotFoundError, UnavailableError } from "./errors.ts";
import type { Leadership } from "./kafka_election.ts";

/** What the app needs. */
export interface OrchestratorAppDeps extends Omit<HandlerDeps, "now"> {
  logger: Logger;
  /** The token and the hosts served: every request passes these rules first (api_access.ts). */
  access: ApiAccess;
  /** Swagger UI's assets; without them `/api/docs` is a minimal self-contained page. */
  docsAssets?: DocsAssets;
  now?: () => number;
  /** Aborted at shutdown: ends the dashboard's open event streams so the server can close. */
  signal?: AbortSignal;
  /**
   * False while the orchestrator is still connecting to Kafka: stored tests are served, but
   * `/healthz`, `/api/drivers` and every command answer 503 until then. Absent: always connected.
   */
  kafkaConnected?: () => boolean;
}

/**
 * Commands to the fleet or the history: every API request that changes something, except the
 * shutdown of this process itself.
 */
export function isCommand(method: string, path: string): boolean {
  return path.startsWith("/api/") && method !== "GET" && method !== "HEAD" &&
    path !== "/api/shutdown";
}

/**
 * Requests that need Kafka: every command, the health check, and the driver list (it comes from
 * Kafka: a client that saw drivers alive must be able to start a test at once).
 */
export function needsKafka(method: string, path: string): boolean {
  return path === "/healthz" || path === "/api/drivers" || isCommand(method, path);
}

/**
 * Any error as the API answers it: an {@link ApiError} as it is; Hono's own HTTPException (thrown
 * for a malformed JSON body, and recognised by shape: the import map's `hono/` prefix does not
 * resolve `hono/http-exception` here) as an invalid request; anything else as an internal error,
 * whose details stay in the log.
 */
function asApiError(err: Error): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as Error & { status?: unknown; getResponse?: unknown };
  if (typeof e.status === "number" && typeof e.getResponse === "function" && e.status < 500) {
    return new ApiError(400, `Invalid request: ${err.message}`, { cause: err });
  }
  return new ApiError(500, "Internal error", { cause: err });
}

/** Builds the API around a controller; `main.ts` serves it with `Deno.serve`. */
export function createOrchestratorApp(deps: OrchestratorAppDeps): OpenAPIHono {
  const { controller } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: "api" });

  const app = new OpenAPIHono({
    // Validation failures become the one error shape, naming every bad field.
    defaultHook: (result) => {
      if (result.success) return;
      const problems = result.error.issues.map((issue) => ({
        field: issue.path.length > 0 ? issue.path.join(".") : "(body)",
        message: issue.message,
      }));
      const list = problems.map((p) => `${p.field}: ${p.message}`).join("; ");
      return new ApiError(400, `Invalid request: ${list}`, { problems }).getResponse();
    },
  });

  app.onError((err, c) => {
    const error = asApiError(err);
    if (error.status >= 500) log.error("request failed", { path: c.req.path, error: err.message });
    return error.getResponse();
  });
  app.notFound((c) =>
    new NotFoundError(`No route for ${c.req.method} ${c.req.path}`).getResponse()
  );
  // First: a request for another host, or without the token, is refused before anything else
  // looks at it (its body is never read).
  app.use(requireAccess(deps.access));
  // Next, so an oversized body is refused before a route reads it.
  app.use(limitBody());
  const connected = deps.kafkaConnected;
  if (connected) {
    app.use(async (c, next) => {
      if (!connected() && needsKafka(c.req.method, c.req.path)) {
        // Answered here, not thrown: waiting for Kafka is expected, not an error to log.
        return new UnavailableError("Not connected to Kafka yet: try again in a moment")
          .getResponse();
      }
      await next();
    });
  }
  const leadership = deps.leadership;
  if (leadership) {
    app.use(async (c, next) => {
      if (!isCommand(c.req.method, c.req.path) || leadership.isActive()) return await next();
      return (await standbyRefusal(leadership)).getResponse();
    });
  }

  const handle = createHandlers({ ...deps, now });
  app.openapi(routes.drivers, handle.drivers)
    .openapi(routes.createTest, handle.createTest)
    .openapi(routes.listTests, handle.listTests)
    .openapi(routes.getTest, handle.getTest)
    .openapi(routes.deleteTest, handle.deleteTest)
    .openapi(routes.trigger, handle.trigger)
    .openapi(routes.stop, handle.stop)
    .openapi(routes.timeseries, handle.timeseries)
    .openapi(routes.report, handle.report)
    .openapi(routes.end, handle.end)
    .openapi(routes.shutdown, handle.shutdown)
    .openapi(routes.health, handle.health);
  serveDocs(app, deps.docsAssets);
  app.route("/", loginRoutes(deps.access));
  // The web dashboard (dashboard/): its page at `/`, assets, live events and HTML reports.
  app.route("/", createDashboardRoutes({ source: controller, now, signal: deps.signal }));
  return app;
}

/**
 * A standby's answer to a command: 409 naming the active orchestrator, or 503 while the election
 * has none (the active one just died: a standby takes over within seconds).
 */
async function standbyRefusal(leadership: Leadership): Promise<ApiError> {
  const active = await leadership.active();
  if (!active) {
    return new UnavailableError(
      "This orchestrator is a standby and no orchestrator is active right now: try again in a " +
        "few seconds",
    );
  }
  return new ConflictError(
    `This orchestrator is a standby: send commands to the active orchestrator ` +
      `${active.orchestrator_id} at ${active.url}`,
  );
}

/**
 * `/api/openapi.json`, generated from the routes registered so far, and the docs at `/api/docs`:
 * Swagger UI when its assets were loaded, else a plain page listing the operations.
 */
function serveDocs(app: OpenAPIHono, docsAssets: DocsAssets | undefined): void {
  // Swagger UI's "Authorize" button takes the token; /healthz opts out with `security: []`.
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "The orchestrator's API token (SURGE_API_TOKEN, or api_token in its data dir)",
  });
  app.doc("/api/openapi.json", {
    openapi: "3.0.0",
    info: {
      title: "surge orchestrator",
      version: "1.0.0",
      description: "Create, trigger and follow distributed HTTP load tests.",
    },
    security: [{ bearer: [] }],
  });
  app.get("/api/docs", (c) => {
    if (docsAssets) return c.html(swaggerPage("/api/openapi.json"));
    const spec = app.getOpenAPIDocument({
      openapi: "3.0.0",
      info: { title: "surge orchestrator", version: "1.0.0" },
    });
    return c.html(
      fallbackPage(spec as unknown as { paths?: Record<string, Record<string, unknown>> }),
    );
  });
  app.get("/api/docs/:file", (c) => {
    const asset = docsAssets?.get(c.req.param("file"));
    if (!asset) return new NotFoundError(`No docs asset ${c.req.param("file")}`).getResponse();
    return c.body(asset.body, 200, {
      "content-type": asset.contentType,
      "cache-control": "public, max-age=3600",
    });
  });
}
