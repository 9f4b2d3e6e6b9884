/**
 * The REST API's contract: one zod schema per request and response body, and every type of a body
 * derived from its schema (`z.infer`, `z.input`), never declared a second time. The orchestrator
 * validates requests with these schemas, generates its OpenAPI document from them and types its
 * answers by them; the CLI, the dashboard, `up` and `deno task end` read answers by the same
 * types. The test body reuses the Kafka message's field definitions and cross-field rules
 * (messages.ts), so REST and Kafka validation cannot drift either.
 */
import { z } from "@hono/zod-openapi";
import {
  checkTestParams,
  nodeIdSchema,
  type TestConfigMessage,
  testConfigSchema,
  testParamsShape,
} from "./messages.ts";

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
/** A validated `POST /api/tests` body, defaults filled in (the test_config less `test_id`). */
export type TestParams = z.infer<typeof createTestBody>;
/** What a client may send to `POST /api/tests`: fields with defaults may be left out. */
export type TestParamsInput = z.input<typeof createTestBody>;

/** One bad field of an invalid request. */
export const problemSchema = z.object({ field: z.string(), message: z.string() });
export type Problem = z.infer<typeof problemSchema>;

/** The one error shape of every 4xx/5xx answer. */
export const errorSchema = z.object({
  error: z.string().openapi({ example: 'Cannot stop test "t1": it is finished' }),
  /** One entry per bad field, for validation errors. */
  problems: z.array(problemSchema).optional(),
}).openapi("Error");
export type ErrorBody = z.infer<typeof errorSchema>;

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
export type LatencyMs = z.infer<typeof latencySchema>;

/** Send lag of paced requests in ms (sent − scheduled); zeros when unpaced. */
export const lagSchema = z.object({
  p50: z.number(),
  p99: z.number(),
  max: z.number(),
}).openapi("LagMs");
export type LagMs = z.infer<typeof lagSchema>;

/** Counters and latency of one driver or of the whole test (README "Metric semantics"). */
export const statsSchema = z.object({
  /** Slots the timetable scheduled in the test's window (paced), or requests (unpaced). */
  offered: z.number().int(),
  /** Requests handed to a socket (or whose connect was attempted): offered − dropped. */
  requests: z.number().int(),
  responses: z.number().int(),
  errors: z.number().int(),
  /** Paced slots of the window never sent: the generator could not keep up, or a stop. */
  dropped: z.number().int(),
  /** Paced slots that came due while every connection was busy. */
  queued: z.number().int(),
  /** Requests with no outcome yet (in flight, or lost with a crashed worker). */
  unfinished: z.number().int(),
  error_kinds: countMap,
  status_codes: countMap,
  /** Paced requests sent more than 2 ms after their slot. */
  late: z.number().int(),
  /** `last`: responses per second over the last report interval, summed over the drivers still
   * running; `mean`: responses over the time the test ran. */
  rps: z.object({ last: z.number(), mean: z.number() }),
  /** How long the test ran, in seconds (overall: the longest-running driver). */
  elapsed_s: z.number(),
  /** Every request that ended: responses, errors and timeouts. */
  latency_ms: latencySchema,
  /** Responses with an expected status only (default 200-399). */
  latency_ok_ms: latencySchema,
  lag_ms: lagSchema,
  /** The generator, not the target, limited the result: cause and fix. */
  warnings: z.array(z.string()),
}).openapi("Stats");
export type Stats = z.infer<typeof statsSchema>;

/** Where a test is in its life (orchestrator/lifecycle.ts moves it). */
export const testStateSchema = z.enum([
  "created",
  "running",
  "finished",
  "stopped",
  "failed",
  /** Its stored data cannot be read; `reason` says why. Never a lifecycle state. */
  "corrupt",
]);
export type TestState = z.infer<typeof testStateSchema>;

/** How far one chosen driver is with a test. */
export const driverProgressSchema = z.enum(["running", "final", "lost"]);
export type DriverProgress = z.infer<typeof driverProgressSchema>;

/** One driver's part of a test. */
export const driverResultSchema = statsSchema.extend({
  /** `running`, `final` (sent its last report) or `lost`; `unchosen` for an unexpected reporter. */
  status: z.enum([...driverProgressSchema.options, "unchosen"]),
  /** The newest report's id, or null before the first one. */
  report_id: z.number().int().nullable(),
  final: z.boolean(),
  /** When the driver took its newest report (ISO 8601), or null. */
  reported_at: z.string().nullable(),
  /** Why this driver's numbers are incomplete (a load worker crashed), or null. */
  error: z.string().nullable(),
  /** Why a lost driver was counted as lost (no heartbeat, restarted, no final report), or null. */
  lost_reason: z.string().nullable(),
}).openapi("DriverResult");
export type DriverResult = z.infer<typeof driverResultSchema>;

/**
 * A test's config as the drivers received it: the `test_config` message, typed and checked by its
 * own schema. The OpenAPI document describes it as a free-form object, as it always has.
 */
const storedConfig = z.custom<TestConfigMessage>((v) => testConfigSchema.safeParse(v).success)
  .openapi({ type: "object", additionalProperties: { nullable: true } });

const testCommon = {
  test_id: z.string(),
  state: testStateSchema,
  /** Why the test failed, or what settled it. */
  reason: z.string().nullable(),
  /** True once the state is final and every chosen driver has sent its final report or is lost. */
  settled: z.boolean(),
  created_at: z.string(),
  triggered_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  config: storedConfig,
  overall: statsSchema,
};

/** `GET /api/tests/{test_id}`. */
export const testViewSchema = z.object({
  ...testCommon,
  drivers: z.record(z.string(), driverResultSchema),
}).openapi("Test");
export type TestView = z.infer<typeof testViewSchema>;

/** An entry of `GET /api/tests`: a test without per-driver detail. */
export const testSummarySchema = z.object(testCommon).openapi("TestSummary");
export type TestSummary = z.infer<typeof testSummarySchema>;

/** `GET /api/tests`. */
export const testListSchema = z.object({ tests: z.array(testSummarySchema) }).openapi("TestList");
export type TestList = z.infer<typeof testListSchema>;

/**
 * Liveness of a driver: `alive` (heard within its window), `lost` (silent for `--lost-after`
 * heartbeat intervals: a fault), `left` (it said in its last heartbeat that it is exiting, on END
 * or a signal: a clean departure). Neither `lost` nor `left` is given a test.
 */
export const driverStatusSchema = z.enum(["alive", "lost", "left"]);
export type DriverStatus = z.infer<typeof driverStatusSchema>;

/** One driver in `GET /api/drivers`. */
export const driverSchema = z.object({
  node_id: z.string(),
  /** From `register`; null for a driver only seen through heartbeats. */
  node_ip: z.string().nullable(),
  status: driverStatusSchema,
  last_heartbeat: z.string(),
  first_seen: z.string(),
  /** Milliseconds since the last heartbeat, by the orchestrator's clock. */
  heartbeat_age_ms: z.number(),
  interval_ms: z.number(),
  /** The test the driver says it runs, from its last heartbeat. */
  test_id: z.string().nullable(),
  workers: z.number().nullable(),
  version: z.string().nullable(),
  /** The driver process's run; a restarted driver has a new one. */
  instance_id: z.string().nullable(),
}).openapi("Driver");
export type Driver = z.infer<typeof driverSchema>;

/** `GET /api/drivers`. */
export const driverListSchema = z.object({ drivers: z.array(driverSchema) }).openapi("DriverList");
export type DriverList = z.infer<typeof driverListSchema>;

/** One second of a series. `t` is the second (1-based) the point ends at. */
export const seriesPointSchema = z.object({
  t: z.number().int(),
  requests: z.number().int(),
  responses: z.number().int(),
  errors: z.number().int(),
  /** Responses completed in this second (per second, since each point spans one second). */
  throughput: z.number(),
  /** Latency percentiles of the responses of this second in ms; null when there were none. */
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p99: z.number().nullable(),
}).openapi("SeriesPoint");
export type SeriesPoint = z.infer<typeof seriesPointSchema>;

/** `GET /api/tests/{test_id}/timeseries`. */
export const timeseriesSchema = z.object({
  test_id: z.string(),
  interval_s: z.literal(1),
  overall: z.array(seriesPointSchema),
  drivers: z.record(z.string(), z.array(seriesPointSchema)),
}).openapi("TimeSeries");
export type TimeSeries = z.infer<typeof timeseriesSchema>;

/** `GET /api/tests/{test_id}/report?format=json`, and what the HTML report is made of. */
export const reportSchema = z.object({
  test: testViewSchema,
  timeseries: timeseriesSchema,
}).openapi("Report");
export type Report = z.infer<typeof reportSchema>;

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

/**
 * `POST /api/end`'s optional body: the drivers to end. Without a body (or without `drivers`),
 * every driver is told. An empty list is refused rather than read as "all": a script whose
 * selection came out empty must not end the whole fleet.
 */
export const endRequestSchema = z.strictObject({
  drivers: z.array(nodeIdSchema).min(1, "must name at least one driver (leave it out for all)")
    .max(1000).optional(),
}).openapi("EndRequest", { example: { drivers: ["three"] } });
export type EndRequest = z.infer<typeof endRequestSchema>;

/** `POST /api/end`: the drivers END was sent to (every alive one, or those named). */
export const endSchema = z.object({ drivers: z.array(z.string()) }).openapi("End");
export type EndBody = z.infer<typeof endSchema>;

/** `GET /healthz`: the storage part (orchestrator/database.ts). */
export const storageHealthSchema = z.object({
  /** False from a write the store refused (disk full, database locked) until one succeeds. */
  writable: z.boolean(),
  /** The refusal, naming the operation and SQLite's reason, while not writable. */
  error: z.string().nullable(),
  /** When the writes started failing (ISO 8601), while not writable. */
  failing_since: z.string().nullable(),
}).openapi("StorageHealth");

/** The orchestrator's link to Kafka, in `/healthz`. */
export const kafkaLinkSchema = z.object({
  connected: z.boolean().describe("whether every consumer of the orchestrator hears the broker"),
  since: z.string().describe(
    "ISO time of the last change: when Kafka was last heard (disconnected) or heard again",
  ),
  for_ms: z.number().int().describe("how long the link has been in this state"),
}).openapi("KafkaLink");
export type KafkaLink = z.infer<typeof kafkaLinkSchema>;

/** `GET /healthz`: `ok` is false while Kafka is unreachable (status 503) or the store refuses writes. */
export const healthSchema = z.object({
  /** False while Kafka is unreachable (see `kafka`) or the store refuses writes (`storage`). */
  ok: z.boolean(),
  kafka: kafkaLinkSchema,
  uptime_s: z.number(),
  drivers_alive: z.number().int(),
  invalid_messages: z.record(z.string(), z.number().int()),
  counters: z.record(z.string(), z.number().int()),
  storage: storageHealthSchema,
  /** Whether this orchestrator commands the fleet (`active`) or only follows it (`standby`). */
  role: z.enum(["active", "standby"]),
  /** The active orchestrator of the cluster as Kafka's election group says, if there is one. */
  active: z.object({ orchestrator_id: z.string(), url: z.string() }).nullable(),
}).openapi("Health");
export type Health = z.infer<typeof healthSchema>;

/** `POST /api/shutdown`. */
export const shutdownSchema = z.object({ shutting_down: z.literal(true) }).openapi("Shutdown");
export type ShutdownBody = z.infer<typeof shutdownSchema>;

/**
 * What the dashboard shows (`/dashboard/snapshot`, and the first event of `/dashboard/events`,
 * whose later events are deltas: dashboard/snapshot_delta.ts): drivers, the newest tests and the
 * test in focus with its series. Not part of the OpenAPI
 * document: the dashboard's page is its only reader.
 */
export const snapshotSchema = z.object({
  /** Server time (epoch ms). */
  time: z.number(),
  drivers: z.array(driverSchema),
  /** The newest tests, newest first. */
  tests: z.array(testSummarySchema),
  /** The test in focus, or null when there is none. */
  current: reportSchema.nullable(),
  /** Set when the requested test does not exist. */
  missing: z.string().optional(),
});
export type Snapshot = z.infer<typeof snapshotSchema>;
