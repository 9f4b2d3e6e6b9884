/**
 * The REST API's route table: method, path, request schemas and documented answers of every
 * operation, from the contract's schemas (shared/api.ts). The OpenAPI document lists the routes
 * in this order. What each route does is in api_handlers.ts.
 */
import { createRoute, type z } from "@hono/zod-openapi";
import * as s from "../shared/api.ts";

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});
const errorResponse = (description: string) => json(s.errorSchema, description);
/** Every route but `/healthz` needs the API token (orchestrator/api_access.ts). */
const auth = {
  401: errorResponse('No API token, or a wrong one: send "Authorization: Bearer <token>"'),
};
const notFound = { 404: errorResponse("No such test") };
const conflict = { 409: errorResponse("Not allowed in the test's current state") };
const kafkaDown = { 503: errorResponse("Kafka could not be reached") };
const unavailable = {
  503: errorResponse(
    "Kafka could not be reached, or the store refused the write (disk full, database locked); " +
      "the error says which. Try again later",
  ),
};
const storeDown = {
  503: errorResponse("The store could not be read (an I/O error, a lock); try again later"),
};

/** Every operation of the API, by handler name. */
export const routes = {
  drivers: createRoute({
    method: "get",
    path: "/api/drivers",
    tags: ["drivers"],
    summary: "Drivers seen through register and heartbeat messages",
    responses: {
      200: json(s.driverListSchema, "Every driver, sorted by node id"),
      ...auth,
    },
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
      ...auth,
      400: errorResponse("Invalid body; each bad field is named"),
      413: errorResponse("Body larger than 8 MiB, refused unread"),
      ...unavailable,
    },
  }),
  listTests: createRoute({
    method: "get",
    path: "/api/tests",
    tags: ["tests"],
    summary: "Every test, newest first",
    responses: {
      200: json(s.testListSchema, "The tests"),
      ...auth,
      ...storeDown,
    },
  }),
  getTest: createRoute({
    method: "get",
    path: "/api/tests/{test_id}",
    tags: ["tests"],
    summary: "One test with its overall and per-driver results",
    request: { params: s.testIdParam },
    responses: {
      200: json(s.testViewSchema, "The test"),
      ...auth,
      ...notFound,
      ...storeDown,
    },
  }),
  deleteTest: createRoute({
    method: "delete",
    path: "/api/tests/{test_id}",
    tags: ["tests"],
    summary: "Delete a settled test with its metrics, results and series",
    request: { params: s.testIdParam },
    responses: {
      204: { description: "Deleted" },
      ...auth,
      ...notFound,
      409: errorResponse("The test can still change (created, running, or not settled yet)"),
      503: errorResponse("The store refused the write (disk full, database locked)"),
    },
  }),
  trigger: createRoute({
    method: "post",
    path: "/api/tests/{test_id}/trigger",
    tags: ["tests"],
    summary: "Start a created test on every alive driver (or the drivers its config lists)",
    request: { params: s.testIdParam },
    responses: {
      200: json(
        s.testViewSchema,
        "The test, now running; `drivers` names the drivers chosen for it",
      ),
      ...auth,
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
      ...auth,
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
    responses: {
      200: json(s.timeseriesSchema, "The series"),
      ...auth,
      ...notFound,
      ...storeDown,
    },
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
      ...auth,
      ...notFound,
      ...storeDown,
    },
  }),
  end: createRoute({
    method: "post",
    path: "/api/end",
    tags: ["system"],
    summary: "Tell every driver, or the drivers named, to finish and exit (trigger END)",
    request: {
      body: {
        content: { "application/json": { schema: s.endRequestSchema } },
        required: false,
        description: "Optional: `drivers` to end only those; without a body every driver ends",
      },
    },
    responses: {
      200: json(s.endSchema, "The drivers END was sent to: every alive one, or those named"),
      ...auth,
      400: errorResponse("Invalid body (an empty or bad `drivers` list, an unknown field)"),
      404: errorResponse("A named driver was never seen (or forgotten); each one is named"),
      409: errorResponse("A named driver has left already; each one is named"),
      ...kafkaDown,
    },
  }),
  shutdown: createRoute({
    method: "post",
    path: "/api/shutdown",
    tags: ["system"],
    summary: "Stop the orchestrator cleanly (used by `deno task end`)",
    responses: {
      202: json(s.shutdownSchema, "Shutting down"),
      ...auth,
      ...conflict,
    },
  }),
  health: createRoute({
    method: "get",
    path: "/healthz",
    tags: ["system"],
    // Open: no token needed.
    security: [],
    summary: "Liveness, the link to Kafka, counters, and whether the store takes writes",
    responses: {
      200: json(
        s.healthSchema,
        "The orchestrator is up and hears Kafka (`ok` is false while the store refuses writes)",
      ),
      503: json(s.healthSchema, "Kafka is unreachable (or not connected yet)"),
    },
  }),
};

/** The route table's type, for the handlers that serve it. */
export type Routes = typeof routes;
