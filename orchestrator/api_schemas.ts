/**
 * The REST API's wire format as zod schemas. Request bodies are validated with them and the
 * OpenAPI document is generated from them, so the docs cannot drift from the behaviour. The test
 * body reuses the Kafka message's field definitions and cross-field rules (shared/messages.ts),
 * so REST and Kafka validation cannot drift either.
 */
import { z } from "@hono/zod-openapi";
import { checkTestParams, testParamsShape } from "../shared/messages.ts";

/** `POST /api/tests`: a test config; unknown fields are refused so a typo is not ignored. */
export const createTestBody = z.strictObject(testParamsShape).superRefine(checkTestParams)
  .openapi("CreateTest", {
    example: {
      test_type: "AVALANCHE",
      test_message_delay: 0,
      message_count_per_driver: 1000,
      target_url: "http://127.0.0.1:8080/ping",
      connections: 10,
    },
  });

/** The one error shape of every 4xx/5xx answer. */
export const errorSchema = z.object({
  error: z.string().openapi({ example: 'Cannot stop test "t1": it is finished' }),
  /** One entry per bad field, for validation errors. */
  problems: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
}).openapi("Error");

const countMap = z.record(z.string(), z.number().int());

/** Latency statistics in ms. */
export const latencySchema = z.object({
  min: z.number(),
  mean: z.number(),
  median: z.number(),
  mode: z.number(),
  p90: z.number(),
  p95: z.number(),
  p99: z.number(),
  p999: z.number(),
  max: z.number(),
}).openapi("LatencyMs");

/** Counters and latency of one driver or of the whole test. */
export const statsSchema = z.object({
  requests: z.number().int(),
  responses: z.number().int(),
  errors: z.number().int(),
  error_kinds: countMap,
  status_codes: countMap,
  late: z.number().int(),
  rps: z.object({ last: z.number(), mean: z.number() }),
  elapsed_s: z.number(),
  latency_ms: latencySchema,
}).openapi("Stats");

/** One driver's part of a test. */
export const driverResultSchema = statsSchema.extend({
  status: z.enum(["running", "final", "lost", "unchosen"]),
  report_id: z.number().int().nullable(),
  final: z.boolean(),
  reported_at: z.string().nullable(),
}).openapi("DriverResult");

const testState = z.enum(["created", "running", "finished", "stopped", "failed"]);

const testCommon = {
  test_id: z.string(),
  state: testState,
  reason: z.string().nullable(),
  settled: z.boolean(),
  created_at: z.string(),
  triggered_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  config: z.record(z.string(), z.unknown()),
  overall: statsSchema,
};

/** `GET /api/tests/{test_id}`. */
export const testViewSchema = z.object({
  ...testCommon,
  drivers: z.record(z.string(), driverResultSchema),
}).openapi("Test");

/** An entry of `GET /api/tests`. */
export const testSummarySchema = z.object(testCommon).openapi("TestSummary");

/** `GET /api/tests`. */
export const testListSchema = z.object({ tests: z.array(testSummarySchema) }).openapi("TestList");

/** One driver in `GET /api/drivers`. */
export const driverSchema = z.object({
  node_id: z.string(),
  node_ip: z.string().nullable(),
  status: z.enum(["alive", "lost"]),
  last_heartbeat: z.string(),
  first_seen: z.string(),
  heartbeat_age_ms: z.number(),
  interval_ms: z.number(),
  test_id: z.string().nullable(),
  workers: z.number().nullable(),
  version: z.string().nullable(),
}).openapi("Driver");

/** `GET /api/drivers`. */
export const driverListSchema = z.object({ drivers: z.array(driverSchema) }).openapi("DriverList");

const seriesPoint = z.object({
  t: z.number().int(),
  requests: z.number().int(),
  responses: z.number().int(),
  errors: z.number().int(),
  throughput: z.number(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p99: z.number().nullable(),
}).openapi("SeriesPoint");

/** `GET /api/tests/{test_id}/timeseries`. */
export const timeseriesSchema = z.object({
  test_id: z.string(),
  interval_s: z.literal(1),
  overall: z.array(seriesPoint),
  drivers: z.record(z.string(), z.array(seriesPoint)),
}).openapi("TimeSeries");

/** `GET /api/tests/{test_id}/report?format=json`. */
export const reportSchema = z.object({
  test: testViewSchema,
  timeseries: timeseriesSchema,
}).openapi("Report");

/** The `{test_id}` path parameter. */
export const testIdParam = z.object({
  test_id: z.string().min(1).max(128).openapi({
    param: { name: "test_id", in: "path" },
    example: "20260101-120000-a1b2c3",
  }),
});

/** `?format=` of the report. */
export const reportQuery = z.object({
  format: z.enum(["json", "csv"]).default("json").openapi({
    param: { name: "format", in: "query" },
  }),
});

/** `POST /api/end`. */
export const endSchema = z.object({ drivers: z.array(z.string()) }).openapi("End");

/** `GET /healthz`. */
export const healthSchema = z.object({
  ok: z.boolean(),
  uptime_s: z.number(),
  drivers_alive: z.number().int(),
  invalid_messages: z.record(z.string(), z.number().int()),
  counters: z.record(z.string(), z.number().int()),
}).openapi("Health");

/** `POST /api/shutdown`. */
export const shutdownSchema = z.object({ shutting_down: z.literal(true) }).openapi("Shutdown");
