/**
 * The final summary of a test: a latency table and a counts table, overall and per driver, then
 * the thresholds. Pure: it renders the test resource of `GET /api/tests/{id}`, with control
 * characters stripped from every string in it (shared/terminal_text.ts).
 */
import type { Stats, TestView } from "../shared/api.ts";
import { terminalSafe } from "../shared/terminal_text.ts";
import { formatMeasured, httpErrorCount, type ThresholdResult } from "./threshold.ts";
import { formatCount, formatCounts, formatMs, renderTable } from "./table.ts";

function rowsOf(view: TestView): [string, Stats][] {
  const rows: [string, Stats][] = [["overall", view.overall]];
  for (const [id, d] of Object.entries(view.drivers)) {
    rows.push([d.status === "final" ? id : `${id} (${d.status})`, d]);
  }
  return rows;
}

/** How a test was configured, in one line. */
export function describeConfig(view: TestView): string {
  const c = view.config;
  const pace = c.test_type === "TSUNAMI"
    ? `every ${c.test_message_delay} ms`
    : c.target_throughput
    ? `${c.target_throughput}/s`
    : "max rate";
  const count = c.message_count_per_driver > 0
    ? `${formatCount(c.message_count_per_driver)} requests/driver`
    : "no count limit";
  const duration = c.duration_s ? `, at most ${c.duration_s}s` : "";
  return `${c.test_type} ${c.method} ${c.target_url}  ${pace}, ${count}${duration}, ` +
    `${c.connections} connections/driver`;
}

function latencyTable(rows: [string, Stats][]): string {
  return renderTable(
    ["latency (ms)", "min", "mean", "median", "mode", "p90", "p99", "p99.9", "max"],
    rows.map(([name, s]) => {
      const l = s.latency_ms;
      // Nothing ended, no latency: a row of 0.000 would read as "instant".
      if (s.responses + s.errors === 0) return [name, ...Array<string>(8).fill("-")];
      return [
        name,
        ...[l.min, l.mean, l.median, l.mode, l.p90, l.p99, l.p999, l.max].map(formatMs),
      ];
    }),
    ["left", ...Array(8).fill("right")],
  );
}

const COUNT_HEADER = [
  "",
  "offered",
  "requests",
  "responses",
  "errors",
  "dropped",
  "late",
  "rps",
  "status codes",
  "errors by kind",
];

function countTable(rows: [string, Stats][]): string {
  return renderTable(
    COUNT_HEADER,
    rows.map(([name, s]) => [
      name,
      ...[s.offered, s.requests, s.responses, s.errors, s.dropped, s.late].map(formatCount),
      s.rps.mean.toFixed(1),
      formatCounts(s.status_codes),
      formatCounts(s.error_kinds),
    ]),
    ["left", ...Array(7).fill("right"), "left", "left"],
  );
}

/** The lines under the tables: ok latency and lag, driver errors, warnings, HTTP errors. */
function notes(view: TestView): string[] {
  const out: string[] = [];
  if (view.overall.responses > 0) {
    const ok = view.overall.latency_ok_ms;
    const lag = view.overall.lag_ms;
    const paced = view.config.test_type === "TSUNAMI" || view.config.target_throughput;
    out.push(
      "",
      `expected statuses only: median ${formatMs(ok.median)}  p99 ${formatMs(ok.p99)}  ` +
        `max ${formatMs(ok.max)} ms` +
        (paced
          ? `;  send lag p50 ${formatMs(lag.p50)}  p99 ${formatMs(lag.p99)}  max ` +
            `${formatMs(lag.max)} ms`
          : ""),
    );
  }
  for (const [id, d] of Object.entries(view.drivers)) {
    if (d.error !== null) out.push(`driver ${id}: ${d.error}`);
  }
  for (const w of view.overall.warnings) out.push(`warning: ${w}`);
  const httpErrors = httpErrorCount(view.overall.status_codes);
  if (httpErrors > 0) {
    out.push("", `${formatCount(httpErrors)} responses had an HTTP status >= 400.`);
  }
  return out;
}

function thresholdLines(thresholds: readonly ThresholdResult[]): string[] {
  if (thresholds.length === 0) return [];
  const failed = thresholds.filter((t) => !t.passed).length;
  return [
    "",
    `Thresholds: ${thresholds.length - failed} passed, ${failed} failed`,
    ...thresholds.map((t) =>
      `  ${t.passed ? "PASS" : "FAIL"}  ${t.threshold.source.padEnd(18)} actual ${
        formatMeasured(t.threshold.metric, t.actual)
      }`
    ),
  ];
}

/** The whole summary as text (no trailing newline). */
export function renderSummary(
  resource: TestView,
  thresholds: readonly ThresholdResult[] = [],
): string {
  const view = terminalSafe(resource);
  const rows = rowsOf(view);
  const reason = view.reason ? ` (${view.reason})` : "";
  return [
    `Test ${view.test_id}: ${view.state}${reason} after ${view.overall.elapsed_s.toFixed(1)}s`,
    describeConfig(view),
    "",
    latencyTable(rows),
    "",
    countTable(rows),
    ...notes(view),
    ...thresholdLines(thresholds),
  ].join("\n");
}
