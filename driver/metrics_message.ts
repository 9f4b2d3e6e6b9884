/**
 * From the engine's cumulative report to the wire: a test's `test_config` becomes a
 * {@link LoadSpec}, and each {@link PoolReport} becomes a `metrics` message (the seed's fields
 * plus the driver's cumulative state, so a lost or duplicated message corrupts nothing).
 */
import { encodeHistogram, summarize } from "../shared/histogram.ts";
import type { MetricsMessage, TestConfigMessage } from "../shared/messages.ts";
import { intervalMs } from "./pacer.ts";
import type { PoolReport } from "./pool.ts";
import type { LoadSpec } from "./worker_protocol.ts";

/** The engine's view of a validated `test_config`. */
export function loadSpecFromConfig(config: TestConfigMessage): LoadSpec {
  return {
    url: config.target_url,
    method: config.method,
    ...(config.headers === undefined ? {} : { headers: config.headers }),
    ...(config.body === undefined ? {} : { body: config.body }),
    connections: config.connections,
    count: config.message_count_per_driver,
    durationMs: config.duration_s == null ? null : config.duration_s * 1000,
    intervalMs: intervalMs(
      config.test_type,
      config.test_message_delay,
      config.target_throughput,
    ),
    timeoutMs: config.timeout_ms,
    ...(config.expected_statuses === undefined
      ? {}
      : { expectedStatuses: config.expected_statuses }),
  };
}

/** The `metrics` message for one report of a test. */
export function metricsMessage(
  driver: { nodeId: string; instanceId: string },
  testId: string,
  reportId: number,
  report: PoolReport,
  timestamp: number,
): MetricsMessage {
  const s = summarize(report.histogram);
  return {
    node_id: driver.nodeId,
    instance_id: driver.instanceId,
    test_id: testId,
    report_id: reportId,
    metrics: {
      mean_latency: s.mean,
      median_latency: s.median,
      min_latency: s.min,
      max_latency: s.max,
      p90_latency: s.p90,
      p95_latency: s.p95,
      p99_latency: s.p99,
      p999_latency: s.p999,
      mode_latency: s.mode,
    },
    timestamp: Math.floor(timestamp),
    final: report.final,
    elapsed_ms: Math.round(report.elapsedMs * 1000) / 1000,
    requests: report.requests,
    responses: report.responses,
    errors: report.errors,
    error_kinds: report.errorKinds,
    status_codes: report.statusCodes,
    late: report.late,
    dropped: report.dropped,
    queued: report.queued,
    unfinished: report.unfinished,
    interval_rps: Math.round(report.intervalRps * 1000) / 1000,
    histogram: encodeHistogram(report.histogram),
    failed_histogram: encodeHistogram(report.failedHistogram),
    service_histogram: encodeHistogram(report.serviceHistogram),
    lag_histogram: encodeHistogram(report.lagHistogram),
    ...(report.error === undefined ? {} : { error: report.error }),
  };
}
