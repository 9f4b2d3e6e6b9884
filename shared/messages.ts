/**
 * The wire protocol: one zod schema, one parse function and one encode function per Kafka topic.
 * Field names from the original design (the seed) are kept exactly; what surge needs beyond them
 * sits beside them. Everything that crosses Kafka is validated here, at the edge.
 */
import { z } from "zod";
import type { TopicKind } from "./topics.ts";
import { decodeSparse } from "./histogram.ts";

/** A driver's node id; the one definition, for messages, REST bodies and command lines. */
export const nodeIdSchema = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
  "must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit",
);
const nodeId = nodeIdSchema;
const testId = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
  "must be 1-128 of A-Z a-z 0-9 . _ - starting with a letter or digit",
);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** Epoch ms that a Date can hold; how far from the receiver's clock is checked on receipt. */
const epochMs = z.number().int().nonnegative().max(8_640_000_000_000_000);
/**
 * A driver process's identity for one run: drawn at start, carried by its register, heartbeat and
 * metrics, so a driver restarted under the same name is recognised as a different run.
 */
const instanceId = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "must be 1-64 of A-Z a-z 0-9 -");
const ms = z.number().finite().nonnegative();
const countMap = z.record(z.string().max(64), count);
/** An encoded HDR histogram that really decodes: a corrupt one is rejected at the edge. */
const encodedHistogram = z.string().max(4_000_000).refine((text) => {
  try {
    decodeSparse(text);
    return true;
  } catch {
    return false;
  }
}, "must be a base64 V2 HDR histogram");

/**
 * A command's signature: HMAC-SHA-256 with the fleet key (`SURGE_FLEET_KEY`) over the topic kind and
 * the canonical JSON of the message without it, in lowercase hex (shared/command_signature.ts).
 */
const signature = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits");

/** `register`: a driver announces itself when it starts (seed fields + what it runs on). */
export const registerSchema = z.object({
  node_id: nodeId,
  node_IP: z.string().min(1).max(255),
  message_type: z.literal("DRIVER_NODE_REGISTER"),
  timestamp: epochMs,
  workers: z.number().int().positive().max(1024).optional(),
  version: z.string().max(64).optional(),
  instance_id: instanceId.optional(),
});
export type RegisterMessage = z.infer<typeof registerSchema>;

/** `heartbeat`: every driver sends one per interval for as long as it runs, idle or busy. */
export const heartbeatSchema = z.object({
  node_id: nodeId,
  heartbeat: z.literal("YES"),
  timestamp: epochMs,
  /** The test the driver is running now, or null when idle. */
  test_id: testId.nullable().optional(),
  interval_ms: z.number().int().positive().max(3_600_000).optional(),
  instance_id: instanceId.optional(),
  /**
   * True on the driver's last heartbeat: it is exiting cleanly (END, SIGINT, SIGTERM) after its
   * final metrics went out, so the orchestrator shows it `left` at once instead of `lost` seconds
   * later. Absent on older drivers, whose exit is noticed by their silence.
   */
  leaving: z.boolean().optional(),
});
export type HeartbeatMessage = z.infer<typeof heartbeatSchema>;

/**
 * `heartbeat` from an orchestrator: a probe it reads back to know the topic delivers, so that a
 * stalled topic (its partition leader died) is not taken for silent drivers (heartbeat_channel.ts).
 * `orchestrator_id` is drawn per process; `probe` numbers its probes.
 */
export const probeSchema = z.object({
  heartbeat: z.literal("PROBE"),
  orchestrator_id: instanceId,
  probe: count,
  timestamp: epochMs,
});
export type ProbeMessage = z.infer<typeof probeSchema>;

/** Whether a message of the `heartbeat` topic is an orchestrator's probe, not a driver's beat. */
export function isProbe(message: HeartbeatMessage | ProbeMessage): message is ProbeMessage {
  return message.heartbeat === "PROBE";
}

/** What the `heartbeat` topic carries: drivers' heartbeats and orchestrators' probes. */
export const heartbeatTopicSchema = z.discriminatedUnion("heartbeat", [
  heartbeatSchema,
  probeSchema,
]);

/** HTTP methods the engine can send. */
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

/** An absolute http:// or https:// URL: a test's target, or a command line's orchestrator. */
export const httpUrlSchema = z.string().max(2048).refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}, "must be an absolute http:// or https:// URL");

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be a valid header name");
const headerValue = z.string().max(8192).refine(
  (v) => !/[\r\n\0]/.test(v),
  "must not contain CR, LF or NUL",
);

/**
 * The test parameters without the cross-field rules, so the orchestrator's REST API can reuse
 * the same field definitions (it adds `test_id` itself).
 */
export const testParamsShape = {
  test_type: z.enum(["AVALANCHE", "TSUNAMI"]),
  /** Milliseconds between requests on each driver (Tsunami); 0 for Avalanche. */
  test_message_delay: z.number().finite().nonnegative().max(3_600_000),
  /** Requests per driver; 0 means "no count limit" and then `duration_s` must be set. */
  message_count_per_driver: count,
  target_url: httpUrlSchema,
  /** Requests per second per driver (Avalanche only); absent or null means "as fast as possible". */
  target_throughput: z.number().finite().positive().max(10_000_000).nullable().optional(),
  /** Upper bound on the test's length in seconds; absent or null means "until the count is done". */
  duration_s: z.number().finite().positive().max(86_400).nullable().optional(),
  /**
   * Keep-alive connections per driver, at most 10,000: each is a socket, so a file descriptor and
   * one of the ~28,000 ephemeral ports Linux has per target address by default, plus a 64 KiB read
   * buffer once connected (10,000 hold 625 MiB). More load needs more drivers, not more sockets.
   */
  connections: z.number().int().positive().max(10_000).default(10),
  /** Per-request timeout. */
  timeout_ms: z.number().int().positive().max(600_000).default(10_000),
  /** The drivers this test is for; absent or empty means every driver that is triggered. */
  drivers: z.array(nodeId).max(1000).optional(),
  method: z.enum(HTTP_METHODS).default("GET"),
  headers: z.record(headerName, headerValue).optional(),
  /**
   * Headers whose values are secret beyond the usual ones (`Authorization`, `Cookie`, ...:
   * shared/redact.ts), in any case: every output shows them as `***`. The drivers still send the
   * real values; orchestrators read it from `test_config`, so a standby redacts the same headers.
   */
  secret_headers: z.array(headerName).max(100).optional(),
  body: z.string().max(1_048_576).optional(),
  /** HTTP statuses that count as success in `latency_ok`; absent means 200-399. */
  expected_statuses: z.array(z.number().int().min(100).max(599)).min(1).max(500).optional(),
};

/** Cross-field rules shared by the Kafka message and the REST body. */
// deno-lint-ignore no-explicit-any
export function checkTestParams(v: any, ctx: z.RefinementCtx): void {
  if (v.test_type === "TSUNAMI" && !(v.test_message_delay > 0)) {
    ctx.addIssue({
      code: "custom",
      path: ["test_message_delay"],
      message: "must be > 0 ms for a TSUNAMI test",
    });
  }
  if (v.test_type === "AVALANCHE" && v.test_message_delay !== 0) {
    ctx.addIssue({
      code: "custom",
      path: ["test_message_delay"],
      message: "must be 0 for an AVALANCHE test (use target_throughput to pace it)",
    });
  }
  if (v.test_type === "TSUNAMI" && v.target_throughput != null) {
    ctx.addIssue({
      code: "custom",
      path: ["target_throughput"],
      message: "is for AVALANCHE tests; a TSUNAMI test is paced by test_message_delay",
    });
  }
  if (v.message_count_per_driver === 0 && v.duration_s == null) {
    ctx.addIssue({
      code: "custom",
      path: ["message_count_per_driver"],
      message: "must be > 0 unless duration_s is set (the test would never end)",
    });
  }
}

/** `test_config`: the orchestrator describes a test to the drivers before triggering it. */
export const testConfigSchema = z.object({
  test_id: testId,
  ...testParamsShape,
  timestamp: epochMs.optional(),
  /** Set by an orchestrator with a fleet key; drivers with one refuse a config without it. */
  signature: signature.optional(),
}).superRefine(checkTestParams);
export type TestConfigMessage = z.infer<typeof testConfigSchema>;
/** What a producer supplies: defaults may be left out. */
export type TestConfigInput = z.input<typeof testConfigSchema>;

/**
 * `trigger`: starts a configured test (the seed's `"trigger": "YES"`), stops a running one early
 * (`"STOP"`), or tells drivers to finish and exit (`"END"`, the seed's `end`).
 */
export const triggerSchema = z.discriminatedUnion("trigger", [
  z.object({
    trigger: z.literal("YES"),
    test_id: testId,
    timestamp: epochMs,
    /** The drivers chosen at trigger time; absent means every driver the config names. */
    drivers: z.array(nodeId).max(1000).optional(),
    /**
     * The run (instance id) of each chosen driver at trigger time, so a standby orchestrator
     * accepts metrics from the same runs as the active one.
     */
    instances: z.record(nodeId, instanceId).optional(),
    /** Set by a publisher with a fleet key; drivers with one refuse a trigger without it. */
    signature: signature.optional(),
  }),
  z.object({
    trigger: z.literal("STOP"),
    test_id: testId,
    timestamp: epochMs,
    signature: signature.optional(),
  }),
  z.object({
    trigger: z.literal("END"),
    timestamp: epochMs,
    /** Absent means every driver. */
    drivers: z.array(nodeId).max(1000).optional(),
    signature: signature.optional(),
  }),
]);
export type TriggerMessage = z.infer<typeof triggerSchema>;

/** The longest `duration_s` (a day) plus an hour for the last requests and reports. */
export const MAX_ELAPSED_MS = 90_000_000;

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** A metrics message's counters must add up (README "Metric semantics"). */
// deno-lint-ignore no-explicit-any
function checkMetricsCounts(m: any, ctx: z.RefinementCtx): void {
  const add = (path: string, message: string) =>
    ctx.addIssue({ code: "custom", path: [path], message });
  if (m.requests !== m.responses + m.errors + (m.unfinished ?? 0)) {
    add("requests", "must equal responses + errors + unfinished");
  }
  if (sum(m.status_codes) !== m.responses) add("status_codes", "must add up to responses");
  if (sum(m.error_kinds) !== m.errors) add("error_kinds", "must add up to errors");
  if (m.late > m.requests) add("late", "must not exceed requests");
  if (m.histograms_since !== undefined) {
    if (m.histograms_since >= m.report_id) {
      add("histograms_since", "must be an earlier report_id than this message's");
    }
    if (m.final) add("histograms_since", "must be absent on a final message (it is cumulative)");
  }
}

/** Latency summary in milliseconds: the seed's four fields plus percentiles and the mode. */
export const latencySummarySchema = z.object({
  mean_latency: ms,
  median_latency: ms,
  min_latency: ms,
  max_latency: ms,
  p90_latency: ms.optional(),
  p95_latency: ms.optional(),
  p99_latency: ms.optional(),
  p999_latency: ms.optional(),
  mode_latency: ms.optional(),
});
export type LatencySummary = z.infer<typeof latencySummarySchema>;

/**
 * `metrics`: a driver's *cumulative* state for one test. Each message supersedes the previous
 * one from the same (test, driver) by `report_id`, so a lost or duplicated message cannot
 * corrupt a total. Only the histograms may be sent as what was added since an earlier report
 * (`histograms_since`): a cumulative histogram grows with the test's age, and decoding it once a
 * second per driver was most of what aggregating cost (README "Metric semantics").
 */
export const metricsSchema = z.object({
  node_id: nodeId,
  test_id: testId,
  /** At most one report per 100 ms (the shortest --report-ms) for a day-long test, with room. */
  report_id: z.number().int().nonnegative().max(10_000_000),
  instance_id: instanceId.optional(),
  metrics: latencySummarySchema,
  timestamp: epochMs,
  /** True on the last message of the test from this driver. */
  final: z.boolean(),
  /** Milliseconds since the driver started the test: at most the longest test plus an hour. */
  elapsed_ms: ms.max(MAX_ELAPSED_MS),
  requests: count,
  responses: count,
  errors: count,
  error_kinds: countMap,
  status_codes: countMap,
  /** Paced requests sent more than the late tolerance (2 ms) after their slot. */
  late: count,
  /** Paced slots inside the test's window that were never sent (k6's dropped_iterations). */
  dropped: count.default(0),
  /** Paced slots that came due while every connection was busy. */
  queued: count.default(0),
  /** Requests with no outcome yet: in flight, or lost with a crashed worker. */
  unfinished: count.default(0),
  /** Responses per second over the last report interval. */
  interval_rps: z.number().finite().nonnegative(),
  /**
   * Absent: the histograms are cumulative. Set: they hold only the requests that ended after the
   * report with this `report_id` from the same run; the receiver adds them to that report's, and
   * ignores the message when it did not take that report (the driver's next cumulative message
   * restores the chain). Never on a final message.
   */
  histograms_since: z.number().int().nonnegative().max(10_000_000).optional(),
  /** Cumulative HDR histogram of latency in µs of every request that ended, base64 V2. */
  histogram: encodedHistogram,
  /**
   * The same for the requests that failed (errors, and responses without an expected status):
   * `histogram` minus it is the latency of the expected responses. A healthy test's failures are
   * few, so this is small where the expected responses' own histogram was as large as `histogram`.
   */
  failed_histogram: encodedHistogram.optional(),
  /**
   * The expected responses' histogram itself, as drivers sent it before `failed_histogram`;
   * read when `failed_histogram` is absent, so their stored reports replay as they were taken.
   */
  ok_histogram: encodedHistogram.optional(),
  /** Cumulative HDR histogram of raw service time in µs (send to response), base64 V2. */
  service_histogram: encodedHistogram.optional(),
  /** Cumulative HDR histogram of paced send lag in µs (sent − scheduled). */
  lag_histogram: encodedHistogram.optional(),
  /** Why the driver's result is incomplete (a load worker crashed). */
  error: z.string().max(2000).optional(),
}).superRefine(checkMetricsCounts);
export type MetricsMessage = z.infer<typeof metricsSchema>;
/** What a producer supplies: counters added later may be left out. */
export type MetricsInput = z.input<typeof metricsSchema>;

/** The message type carried by each topic kind. */
export interface MessageOf {
  register: RegisterMessage;
  test_config: TestConfigMessage;
  trigger: TriggerMessage;
  metrics: MetricsMessage;
  heartbeat: HeartbeatMessage | ProbeMessage;
}

/** What a producer may pass for each topic kind (defaults filled in by encode). */
export interface InputOf {
  register: RegisterMessage;
  test_config: TestConfigInput;
  trigger: TriggerMessage;
  metrics: MetricsInput;
  heartbeat: HeartbeatMessage | ProbeMessage;
}

const SCHEMAS: { [K in TopicKind]: z.ZodType<MessageOf[K], InputOf[K]> } = {
  register: registerSchema,
  test_config: testConfigSchema,
  trigger: triggerSchema,
  metrics: metricsSchema,
  heartbeat: heartbeatTopicSchema,
};

/** The outcome of parsing: the value, or an error that names the field. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * The outcome of parsing one Kafka message: as {@link ParseResult}, with the message's text exactly
 * as received. The text is what a store keeps (serialising a 15 KB metrics report again cost as
 * much as writing it); it may lack the value's defaults and carry fields the schema drops, so it is
 * read back with {@link parseMessage}, never with `JSON.parse` alone.
 */
export type ParsedMessage<T> = { ok: true; value: T; text: string } | { ok: false; error: string };

/** Turns zod issues into one line that names each bad field. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join(".") : "(message)";
    return `${path}: ${issue.message}`;
  }).join("; ");
}

/** How far a message's timestamp may be from the receiver's clock before it is refused. */
export const MAX_CLOCK_SKEW_MS = 86_400_000;

/** Refuses bytes that are not UTF-8; stateless between calls, so one serves every message. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses raw bytes or text from `kind`'s topic. Never throws. With `now` (the receiver's clock),
 * a timestamp more than {@link MAX_CLOCK_SKEW_MS} away is refused too.
 */
export function parseMessage<K extends TopicKind>(
  kind: K,
  raw: Uint8Array | string | null | undefined,
  now?: number,
): ParsedMessage<MessageOf[K]> {
  if (raw == null) return { ok: false, error: `${kind}: empty message` };
  let json: unknown;
  let text: string;
  try {
    text = typeof raw === "string" ? raw : UTF8.decode(raw);
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `${kind}: not valid JSON (${(err as Error).message})` };
  }
  const result = SCHEMAS[kind].safeParse(json);
  if (!result.success) {
    return { ok: false, error: `${kind}: ${describeIssues(result.error.issues)}` };
  }
  const timestamp = (result.data as { timestamp?: number }).timestamp;
  if (
    now !== undefined && timestamp !== undefined && Math.abs(timestamp - now) > MAX_CLOCK_SKEW_MS
  ) {
    return {
      ok: false,
      error: `${kind}: timestamp ${timestamp} is more than a day from this host's clock (${now})`,
    };
  }
  return { ok: true, value: result.data, text };
}

/** Validates and serialises a message for `kind`'s topic; throws TypeError on an invalid one. */
export function encodeMessage<K extends TopicKind>(kind: K, message: InputOf[K]): string {
  const result = SCHEMAS[kind].safeParse(message);
  if (!result.success) {
    throw new TypeError(
      `Refusing to send an invalid ${kind} message: ${describeIssues(result.error.issues)}`,
    );
  }
  return JSON.stringify(result.data);
}
