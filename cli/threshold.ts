/**
 * Pass/fail thresholds for `deno task loadtest --threshold EXPR`, like k6's: a metric, a
 * comparison and a value (`p99<250ms`, `p95<=1s`, `error_rate<1%`, `rps>1000`). Parsing happens
 * before any test starts, so a typo cannot waste a test run; evaluation uses the merged result of
 * every driver (the overall statistics, whose percentiles come from the merged histogram).
 */
import type { Stats } from "../shared/api.ts";
import { checkAll } from "../shared/cli_args.ts";
import { UsageError } from "../shared/usage_error.ts";

/** What a threshold can be about. */
export type ThresholdMetric =
  | "min"
  | "mean"
  | "median"
  | "mode"
  | "p90"
  | "p95"
  | "p99"
  | "p999"
  | "max"
  | "error_rate"
  | "errors"
  | "rps"
  | "requests"
  | "responses"
  | "dropped"
  | "late"
  | "queued";

/** A comparison operator. */
export type ThresholdOp = "<" | "<=" | ">" | ">=" | "==";

/** A parsed threshold. Latencies are in ms, `error_rate` is a fraction (1% = 0.01). */
export interface Threshold {
  /** The text as the user wrote it, for the summary. */
  source: string;
  metric: ThresholdMetric;
  op: ThresholdOp;
  value: number;
}

/** The verdict on one threshold. */
export interface ThresholdResult {
  threshold: Threshold;
  /** The measured value in the threshold's unit (ms, fraction, count or per second). */
  actual: number;
  passed: boolean;
}

const LATENCY: Record<string, ThresholdMetric> = {
  min: "min",
  mean: "mean",
  avg: "mean",
  median: "median",
  p50: "median",
  mode: "mode",
  p90: "p90",
  p95: "p95",
  p99: "p99",
  p999: "p999",
  "p99.9": "p999",
  max: "max",
};
const COUNTS: Record<string, ThresholdMetric> = {
  errors: "errors",
  requests: "requests",
  responses: "responses",
  rps: "rps",
  dropped: "dropped",
  late: "late",
  queued: "queued",
};
const TIME_UNITS: Record<string, number> = { us: 0.001, "µs": 0.001, ms: 1, s: 1000 };

/** Metric names a user may write, for error messages and help. */
export const THRESHOLD_METRICS = [...Object.keys(LATENCY), "error_rate", ...Object.keys(COUNTS)];

const PATTERN =
  /^\s*([a-z_][a-z0-9_.]*)\s*(<=|>=|==|<|>|=)\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([a-zµ%]*)\s*$/i;

/** Parses one threshold; throws a UsageError with a message that shows what is accepted. */
export function parseThreshold(text: string): Threshold {
  const m = PATTERN.exec(text);
  const hint = 'expected METRIC OP VALUE, e.g. "p99<250ms", "p95<=1s", "error_rate<1%", "rps>1000"';
  if (!m) throw new UsageError(`Cannot parse threshold "${text}": ${hint}`);
  const name = m[1]!.toLowerCase();
  const op = (m[2] === "=" ? "==" : m[2]) as ThresholdOp;
  const number = Number(m[3]);
  const unit = m[4]!.toLowerCase();
  const fail = (why: string) => new UsageError(`Cannot parse threshold "${text}": ${why}`);
  if (!Number.isFinite(number)) throw fail("the value is not a finite number");
  if (name in LATENCY) {
    const scale = TIME_UNITS[unit === "" ? "ms" : unit];
    if (scale === undefined) throw fail(`"${m[4]}" is not a time unit (use us, ms or s)`);
    return { source: text.trim(), metric: LATENCY[name]!, op, value: number * scale };
  }
  if (name === "error_rate") {
    if (unit !== "" && unit !== "%") {
      throw fail(`error_rate takes a % or a fraction, not "${m[4]}"`);
    }
    const value = unit === "%" ? number / 100 : number;
    if (value > 1) throw fail("error_rate is at most 100% (or 1)");
    return { source: text.trim(), metric: "error_rate", op, value };
  }
  if (name in COUNTS) {
    if (unit !== "" && !(name === "rps" && unit === "/s")) {
      throw fail(`${name} takes a plain number, not "${m[4]}"`);
    }
    return { source: text.trim(), metric: COUNTS[name]!, op, value: number };
  }
  throw fail(`unknown metric "${m[1]}" (known: ${THRESHOLD_METRICS.join(", ")})`);
}

/** Parses every threshold and reports all bad ones at once. */
export function parseThresholds(texts: readonly string[]): Threshold[] {
  return checkAll([], ...texts.map((text) => () => parseThreshold(text)));
}

/** Responses with a status of 400 or more: they count as failures for `error_rate`. */
export function httpErrorCount(statusCodes: Record<string, number>): number {
  let n = 0;
  for (const [code, count] of Object.entries(statusCodes)) if (Number(code) >= 400) n += count;
  return n;
}

/**
 * The failed fraction of requests: transport errors (timeouts, resets, ...) plus responses with
 * status >= 400, over requests sent. 0 when nothing was sent.
 */
export function errorRate(stats: Pick<Stats, "requests" | "errors" | "status_codes">): number {
  if (stats.requests === 0) return 0;
  return Math.min(1, (stats.errors + httpErrorCount(stats.status_codes)) / stats.requests);
}

/** The value of `metric` in a result. */
export function measure(metric: ThresholdMetric, stats: Stats): number {
  switch (metric) {
    case "error_rate":
      return errorRate(stats);
    case "errors":
      return stats.errors;
    case "requests":
      return stats.requests;
    case "responses":
      return stats.responses;
    case "dropped":
      return stats.dropped;
    case "late":
      return stats.late;
    case "queued":
      return stats.queued;
    case "rps":
      return stats.rps.mean;
    default:
      return stats.latency_ms[metric];
  }
}

function compare(actual: number, op: ThresholdOp, expected: number): boolean {
  switch (op) {
    case "<":
      return actual < expected;
    case "<=":
      return actual <= expected;
    case ">":
      return actual > expected;
    case ">=":
      return actual >= expected;
    case "==":
      return actual === expected;
  }
}

/** Evaluates every threshold on the merged (overall) statistics. */
export function evaluateThresholds(
  thresholds: readonly Threshold[],
  overall: Stats,
): ThresholdResult[] {
  return thresholds.map((threshold) => {
    const actual = measure(threshold.metric, overall);
    return { threshold, actual, passed: compare(actual, threshold.op, threshold.value) };
  });
}

/** Formats a measured value in the threshold's own terms: `12.3ms`, `0.50%`, `1024`. */
export function formatMeasured(metric: ThresholdMetric, value: number): string {
  if (metric === "error_rate") return `${(value * 100).toFixed(2)}%`;
  if (metric === "rps") return `${value.toFixed(1)}/s`;
  if (Object.values(COUNTS).includes(metric)) return String(value);
  return `${value}ms`;
}
