/**
 * The CSV report of a test: one row for the whole test and one per driver, for spreadsheets.
 * (The JSON report is the test resource plus its time series: `Report` in shared/api.ts.)
 */
import type { Stats, TestView } from "../shared/api.ts";

/** Columns of the CSV report, in order. */
export const CSV_COLUMNS = [
  "test_id",
  "scope",
  "state",
  "status",
  "offered",
  "requests",
  "responses",
  "errors",
  "dropped",
  "queued",
  "unfinished",
  "late",
  "rps_mean",
  "rps_last",
  "elapsed_s",
  "min_ms",
  "mean_ms",
  "median_ms",
  "mode_ms",
  "p90_ms",
  "p95_ms",
  "p99_ms",
  "p999_ms",
  "max_ms",
  "ok_median_ms",
  "ok_p99_ms",
  "lag_p50_ms",
  "lag_p99_ms",
  "lag_max_ms",
  "error_kinds",
  "status_codes",
  "error",
  "warnings",
] as const;

/**
 * A text cell that a spreadsheet would read as a formula (it begins with `=`, `+`, `-`, `@`, a tab
 * or a CR) gets a leading `'`, as OWASP advises: a driver's error text or a status-code key comes
 * from whoever can publish on Kafka, and must not run as a formula (`=HYPERLINK(...)`) on the
 * machine of whoever opens the report. Numbers are surge's own and stay numbers, negative ones
 * included: a number cannot hold a formula.
 */
export function neutraliseFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/**
 * One CSV field: a text cell neutralised ({@link neutraliseFormula}), then quoted when it holds a
 * separator, a quote or a line break (RFC 4180); a number as it is.
 */
export function csvField(value: string | number): string {
  if (typeof value === "number") return String(value);
  const text = neutraliseFormula(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const pairs = (counts: Record<string, number>) =>
  Object.entries(counts).sort(([a], [b]) => a < b ? -1 : 1).map(([k, n]) => `${k}=${n}`).join(
    ";",
  );

function row(
  test: TestView,
  scope: string,
  status: string,
  s: Stats,
  error: string | null,
): string {
  const l = s.latency_ms;
  return [
    test.test_id,
    scope,
    test.state,
    status,
    s.offered,
    s.requests,
    s.responses,
    s.errors,
    s.dropped,
    s.queued,
    s.unfinished,
    s.late,
    s.rps.mean,
    s.rps.last,
    s.elapsed_s,
    l.min,
    l.mean,
    l.median,
    l.mode,
    l.p90,
    l.p95,
    l.p99,
    l.p999,
    l.max,
    s.latency_ok_ms.median,
    s.latency_ok_ms.p99,
    s.lag_ms.p50,
    s.lag_ms.p99,
    s.lag_ms.max,
    pairs(s.error_kinds),
    pairs(s.status_codes),
    error ?? "",
    s.warnings.join(" | "),
  ].map(csvField).join(",");
}

/** The CSV report: a header, the overall row (scope `overall`), then one row per driver. */
export function csvReport(test: TestView): string {
  const lines = [CSV_COLUMNS.join(","), row(test, "overall", test.state, test.overall, null)];
  for (const [nodeId, driver] of Object.entries(test.drivers)) {
    lines.push(row(test, nodeId, driver.status, driver, driver.error));
  }
  return lines.join("\r\n") + "\r\n";
}
