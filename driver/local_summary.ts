/**
 * Local mode's output: the one-line JSON summary (`--json`) and the human one, both derived from
 * the pool's final report by the rules in the README's "Metric semantics".
 */
import { type LatencyStats, sparseOf, summarize, withoutFailed } from "../shared/histogram.ts";
import { saturationWarnings } from "../shared/saturation.ts";
import type { REQUEST_COUNTERS } from "../shared/counts.ts";
import type { PoolReport } from "./pool.ts";
import type { Totals } from "./totals.ts";
import type { LoadSpec } from "./worker_protocol.ts";

/** Latency figures in ms, as the summary shows them. */
export interface LatencyFigures {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * The `--json` line: the final report's counters (README "Metric semantics") with the latency
 * figures derived from its histograms. `rps` is responses per second over the test's own duration.
 */
export interface LocalSummary extends Pick<Totals, typeof REQUEST_COUNTERS[number]> {
  /** Slots the timetable offered in the window (paced), or requests (unpaced): sent + dropped. */
  offered: number;
  unfinished: number;
  error_kinds: Record<string, number>;
  status_codes: Record<string, number>;
  duration_s: number;
  rps: number;
  latency_ms: LatencyFigures;
  latency_ok_ms: LatencyFigures;
  lag_ms: { p50: number; p99: number; max: number };
  warnings: string[];
}

function figures(s: LatencyStats): LatencyFigures {
  return {
    min: s.min,
    mean: s.mean,
    p50: s.median,
    p90: s.p90,
    p99: s.p99,
    p999: s.p999,
    max: s.max,
  };
}

/** Summarises a final report of `spec`. */
export function localSummary(report: PoolReport, spec: LoadSpec): LocalSummary {
  const seconds = report.elapsedMs / 1000;
  const lag = summarize(report.lagHistogram);
  const service = summarize(report.serviceHistogram);
  return {
    offered: report.requests + report.dropped,
    requests: report.requests,
    responses: report.responses,
    errors: report.errors,
    dropped: report.dropped,
    queued: report.queued,
    unfinished: report.unfinished,
    error_kinds: report.errorKinds,
    status_codes: report.statusCodes,
    late: report.late,
    duration_s: Math.round(seconds * 1000) / 1000,
    rps: seconds > 0 ? Math.round(report.responses / seconds) : 0,
    latency_ms: figures(summarize(report.histogram)),
    latency_ok_ms: figures(
      summarize(withoutFailed(sparseOf(report.histogram), sparseOf(report.failedHistogram))),
    ),
    lag_ms: { p50: lag.median, p99: lag.p99, max: lag.max },
    warnings: saturationWarnings({
      rate: spec.intervalMs > 0 ? 1000 / spec.intervalMs : null,
      connections: spec.connections,
      queued: report.queued,
      dropped: report.dropped,
      requests: report.requests,
      lagP99Ms: lag.p99,
      serviceMeanMs: service.mean,
      serviceP99Ms: service.p99,
    }),
  };
}

const counts = (map: Record<string, number>) =>
  Object.keys(map).length === 0
    ? "none"
    : Object.entries(map).sort().map(([k, v]) => `${k}=${v}`).join(" ");

const latencyLine = (label: string, l: LatencyFigures) =>
  `${label}: min ${l.min}  mean ${l.mean}  p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}` +
  `  p99.9 ${l.p999}  max ${l.max}`;

/** A few readable lines for a terminal. */
export function formatSummary(s: LocalSummary, paced: boolean): string {
  const lines = [
    `${s.requests} requests, ${s.responses} responses, ${s.errors} errors in ${s.duration_s}s` +
    ` = ${s.rps} responses/s`,
  ];
  if (paced) {
    lines.push(
      `offered ${s.offered}, dropped ${s.dropped}, queued ${s.queued}, late ${s.late}; ` +
        `send lag ms p50 ${s.lag_ms.p50}  p99 ${s.lag_ms.p99}  max ${s.lag_ms.max}`,
    );
  }
  if (s.unfinished > 0) lines.push(`unfinished: ${s.unfinished}`);
  lines.push(
    `status codes: ${counts(s.status_codes)}`,
    `errors: ${counts(s.error_kinds)}`,
    latencyLine(`latency ms${paced ? " (from scheduled time)" : ""}`, s.latency_ms),
    latencyLine("latency ms, expected statuses only", s.latency_ok_ms),
    ...s.warnings.map((w) => `warning: ${w}`),
  );
  return lines.join("\n");
}
