/**
 * Local mode's output: the one-line JSON summary (`--json`) and the human one, both derived from
 * the pool's final report.
 */
import { summarize } from "../shared/histogram.ts";
import type { PoolReport } from "./pool.ts";

/** The `--json` line. `rps` is responses per second over the test's own duration. */
export interface LocalSummary {
  requests: number;
  responses: number;
  errors: number;
  error_kinds: Record<string, number>;
  status_codes: Record<string, number>;
  late: number;
  duration_s: number;
  rps: number;
  latency_ms: {
    min: number;
    mean: number;
    p50: number;
    p90: number;
    p99: number;
    p999: number;
    max: number;
  };
}

/** Summarises a final report. */
export function localSummary(report: PoolReport): LocalSummary {
  const stats = summarize(report.histogram);
  const seconds = report.elapsedMs / 1000;
  return {
    requests: report.requests,
    responses: report.responses,
    errors: report.errors,
    error_kinds: report.errorKinds,
    status_codes: report.statusCodes,
    late: report.late,
    duration_s: Math.round(seconds * 1000) / 1000,
    rps: seconds > 0 ? Math.round(report.responses / seconds) : 0,
    latency_ms: {
      min: stats.min,
      mean: stats.mean,
      p50: stats.median,
      p90: stats.p90,
      p99: stats.p99,
      p999: stats.p999,
      max: stats.max,
    },
  };
}

const counts = (map: Record<string, number>) =>
  Object.keys(map).length === 0
    ? "none"
    : Object.entries(map).sort().map(([k, v]) => `${k}=${v}`).join(" ");

/** A few readable lines for a terminal. */
export function formatSummary(s: LocalSummary, paced: boolean): string {
  const l = s.latency_ms;
  return [
    `${s.requests} requests, ${s.responses} responses, ${s.errors} errors in ${s.duration_s}s` +
    ` = ${s.rps} responses/s`,
    `status codes: ${counts(s.status_codes)}`,
    `errors: ${counts(s.error_kinds)}` + (paced ? `   late: ${s.late}` : ""),
    `latency ms${
      paced ? " (from scheduled time)" : ""
    }: min ${l.min}  mean ${l.mean}  p50 ${l.p50}` +
    `  p90 ${l.p90}  p99 ${l.p99}  p99.9 ${l.p999}  max ${l.max}`,
  ].join("\n");
}
