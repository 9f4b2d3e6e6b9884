/**
 * The orchestrator's REST API: a Hono app built by {@link createOrchestratorApp} around a
 * controller. Bodies are validated with the zod schemas of shared/api.ts, the OpenAPI document
 * at `/api/openapi.json` is generated from the same schemas, and every error answer is an
 * {@link ApiError} in one JSON shape: `{"error": "...", "problems"?: [{"field", "message"}]}`.
 */
import { createRoute, OpenAPIHono, type z } from "@hono/zod-openapi";
import type { InvalidCounts } from "../shared/bus.ts";
import type { Logger } from "../shared/log.ts";
import * as s from "../shared/api.ts";
import type { Controller } from "./controller.ts";
import { type DocsAssets, fallbackPage, swaggerPage } from "./docs_page.ts";
import { ApiError } from "../shared/api_error.ts";
import { ConflictError, NotFoundError, UnavailableError } from "./errors.ts";
import { csvReport } from "./report.ts";
import { createDashboardRoutes } from "../dashboard/routes.ts";

/** What the app needs. */
export interface OrchestratorAppDeps {
  controller: Controller;
  logger: Logger;
  /** The bus's counts of skipped invalid messages, for `/healthz`. */
  invalid?: InvalidCounts;
  /** Swagger UI's assets; without them `/api/docs` is a minimal self-contained page. */
  docsAssets?: DocsAssets;
  /** Called after `POST /api/shutdown` has been answered; absent means shutdown is refused. */
  shutdown?: () => void;
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
 * Requests that need Kafka: every command except shutdown, the health check, and the driver list
 * (it comes from Kafka: a client that saw drivers alive must be able to start a test at once).
 */
export function needsKafka(method: string, path: string): boolean {
  if (path === "/healthz" || path === "/api/drivers") return true;
  return path.startsWith("/api/") && method !== "GET" && method !== "HEAD" &&
    path !== "/api/shutdown";
}

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});
const errorResponse = (description: string) => json(s.errorSchema, description);
const notFound = { 404: errorResponse("No such test") };
const conflict = { 409: errorResponse("Not allowed in the test's current state") };
const unavailable = { 503: errorResponse("Kafka could not be reached") };

const routes = {
  drivers: createRoute({
    method: "get",
    path: "/api/drivers",
    tags: ["drivers"],
    summary: "Drivers seen through register and heartbeat messages",
    responses: { 200: json(s.driverListSchema, "Every driver, sorted by node id") },
  }),
  createTest: createRoute({
    method: "post",
    path: "/api/tests",
    tags: ["tests"],
    summary: "Create a test and publish its test_config",
    request: {
      body: { content: { "application/json": { schema: s.createTestBody } }, required: true },
    },
    responses: {
      201: json(s.testViewSchema, "The test, in state created"),
      400: errorResponse("Invalid body; each bad field is named"),
      ...unavailable,
    },
  }),
  listTests: createRoute({
    method: "get",
    path: "/api/tests",
    tags: ["tests"],
    summary: "Every test, newest first",
    responses: { 200: json(s.testListSchema, "The tests") },
  }),
  getTest: createRoute({
    method: "get",
    path: "/api/tests/{test_id}",
    tags: ["tests"],
    summary: "One test with its overall and per-driver results",
    request: { params: s.testIdParam },
    responses: { 200: json(s.testViewSchema, "The test"), ...notFound },
  }),
  trigger: createRoute({
    method: "post",
    path: "/api/tests/{test_id}/trigger",
    tags: ["tests"],
    summary: "Start a created test on every alive driver (or the drivers its config lists)",
    request: { params: s.testIdParam },
    responses: {
      200: json(s.testViewSchema, "The test, now running"),
      ...notFound,
      ...conflict,
      ...unavailable,
    },
  }),
  stop: createRoute({
    method: "post",
    path: "/api/tests/{test_id}/stop",
    tags: ["tests"],
    summary: "Stop a created or running test",
    request: { params: s.testIdParam },
    responses: {
      200: json(s.testViewSchema, "The test, now stopped"),
      ...notFound,
      ...conflict,
      ...unavailable,
    },
  }),
  timeseries: createRoute({
    method: "get",
    path: "/api/tests/{test_id}/timeseries",
    tags: ["tests"],
    summary: "Per-second throughput, latency percentiles and errors, overall and per driver",
    request: { params: s.testIdParam },
    responses: { 200: json(s.timeseriesSchema, "The series"), ...notFound },
  }),
  report: createRoute({
    method: "get",
    path: "/api/tests/{test_id}/report",
    tags: ["tests"],
    summary: "The test's report as JSON (with its time series) or CSV",
    request: { params: s.testIdParam, query: s.reportQuery },
    responses: {
      200: {
        content: {
          "application/json": { schema: s.reportSchema },
          "text/csv": { schema: { type: "string" as const } },
        },
        description: "The report",
      },
      ...notFound,
    },
  }),
  end: createRoute({
    method: "post",
    path: "/api/end",
    tags: ["system"],
    summary: "Tell every driver to finish and exit (trigger END)",
    responses: { 200: json(s.endSchema, "The drivers that were alive"), ...unavailable },
  }),
  shutdown: createRoute({
    method: "post",
    path: "/api/shutdown",
    tags: ["system"],
    summary: "Stop the orchestrator cleanly (used by `deno task end`)",
    responses: {
      202: json(s.shutdownSchema, "Shutting down"),
      ...conflict,
    },
  }),
  health: createRoute({
    method: "get",
    path: "/healthz",
    tags: ["system"],
    summary: "Liveness and counters",
    responses: { 200: json(s.healthSchema, "The orchestrator is up") },
  }),
};

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
  const startedAt = now();
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

  app.openapi(routes.drivers, (c) => c.json({ drivers: controller.drivers() }, 200));
  app.openapi(routes.createTest, async (c) => {
    return c.json(await controller.createTest(c.req.valid("json")), 201);
  });
  app.openapi(routes.listTests, (c) => c.json({ tests: controller.listTests() }, 200));
  app.openapi(routes.getTest, (c) => c.json(controller.getTest(c.req.valid("param").test_id), 200));
  app.openapi(routes.trigger, async (c) => {
    return c.json(await controller.trigger(c.req.valid("param").test_id), 200);
  });
  app.openapi(routes.stop, async (c) => {
    return c.json(await controller.stop(c.req.valid("param").test_id), 200);
  });
  app.openapi(routes.timeseries, (c) => {
    return c.json(controller.timeseries(c.req.valid("param").test_id), 200);
  });
  app.openapi(routes.report, (c) => {
    const { test_id } = c.req.valid("param");
    const test = controller.getTest(test_id);
    if (c.req.valid("query").format === "csv") {
      return c.body(csvReport(test), 200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="surge-${test_id}.csv"`,
      });
    }
    return c.json({ test, timeseries: controller.timeseries(test_id) }, 200);
  });
  app.openapi(routes.end, async (c) => c.json({ drivers: await controller.endDrivers() }, 200));
  app.openapi(routes.shutdown, (c) => {
    const shutdown = deps.shutdown;
    if (!shutdown) throw new ConflictError("Shutdown over HTTP is not enabled here");
    // Answer first, then stop: the caller learns the request was taken.
    setTimeout(shutdown, 50);
    return c.json({ shutting_down: true as const }, 202);
  });
  app.openapi(routes.health, (c) =>
    c.json({
      ok: true,
      uptime_s: Math.round((now() - startedAt) / 1000),
      drivers_alive: controller.registry.alive().length,
      invalid_messages: { ...(deps.invalid ?? {}) },
      counters: { ...controller.counters },
    }, 200));

  app.doc("/api/openapi.json", {
    openapi: "3.0.0",
    info: {
      title: "surge orchestrator",
      version: "1.0.0",
      description: "Create, trigger and follow distributed HTTP load tests.",
    },
  });

  app.get("/api/docs", (c) => {
    if (deps.docsAssets) return c.html(swaggerPage("/api/openapi.json"));
    const spec = app.getOpenAPIDocument({
      openapi: "3.0.0",
      info: { title: "surge orchestrator", version: "1.0.0" },
    });
    return c.html(
      fallbackPage(spec as unknown as { paths?: Record<string, Record<string, unknown>> }),
    );
  });
  app.get("/api/docs/:file", (c) => {
    const asset = deps.docsAssets?.get(c.req.param("file"));
    if (!asset) return new NotFoundError(`No docs asset ${c.req.param("file")}`).getResponse();
    return c.body(asset.body, 200, {
      "content-type": asset.contentType,
      "cache-control": "public, max-age=3600",
    });
  });
  // The web dashboard (dashboard/): its page at `/`, assets, live events and HTML reports.
  app.route("/", createDashboardRoutes({ source: controller, now, signal: deps.signal }));
  return app;
}
