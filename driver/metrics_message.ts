/**
 * From the engine's cumulative report to the wire: a test's `test_config` becomes a
 * {@link LoadSpec}, and each {@link PoolReport} becomes a `metrics` message (the seed's fields
 * plus the driver's cumulative counters, so a lost or duplicated message corrupts nothing, and
 * its histograms, cumulative or continuing from an earlier report: metrics_chain.ts decides).
 */
import { encodeHistogram, summarize } from "../shared/histogram.ts";
import type { MetricsMessage, TestConfigMessage } from "../shared/messages.ts";
import { intervalMs } from "./pacer.ts";
import type { PoolReport } from "./pool.ts";
import type { HistogramSet } from "./totals.ts";
import type { LoadSpec } from "./worker_protocol.ts";

/** A report's counters and outcome: everything of it but its histograms. */
export type ReportCounts = Omit<PoolReport, keyof HistogramSet | "interval">;

/** Which histograms a message carries. */
export interface MessageHistograms {
  /** The driver's histograms as of the report: the seed's latency summary comes from these. */
  cumulative: HistogramSet;
  /** Set: the message carries `added`, the requests that ended after report `since`, instead. */
  continuing?: { since: number; added: HistogramSet };
}

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
  report: ReportCounts,
  timestamp: number,
  histograms: MessageHistograms,
): MetricsMessage {
  const s = summarize(histograms.cumulative.histogram);
  const sent = histograms.continuing?.added ?? histograms.cumulative;
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
    ...(histograms.continuing === undefined
      ? {}
      : { histograms_since: histograms.continuing.since }),
    histogram: encodeHistogram(sent.histogram),
    failed_histogram: encodeHistogram(sent.failedHistogram),
    service_histogram: encodeHistogram(sent.serviceHistogram),
    lag_histogram: encodeHistogram(sent.lagHistogram),
    ...(report.error === undefined ? {} : { error: report.error }),
  };
}
