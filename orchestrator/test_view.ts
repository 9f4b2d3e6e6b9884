/**
 * The REST API's test resources (their shapes are in shared/api.ts), built from a test's stored
 * record and its aggregate. Pure, so the live view, the cached results of a settled test and the
 * report are one format. The record keeps the config's real header values (the drivers need them,
 * and a standby compares what it mirrors with them); a view shows them redacted, so every read of
 * the API, the reports and the dashboard starts from a config without secrets.
 */
import type { DriverResult, Stats, TestSummary, TestView } from "../shared/api.ts";
import { redactConfig } from "../shared/redact.ts";
import { emptyStats, type TestAggregate } from "./aggregator.ts";
import { hasUnsettledDrivers, isTerminal } from "./lifecycle.ts";
import type { TestRecord } from "./store.ts";

/** The results of a test: overall and per driver (what a settled test caches). */
export type TestResults = Pick<TestView, "overall" | "drivers">;

/** ISO 8601, or null for no time or one a Date cannot hold (it never throws). */
const iso = (ms: number | null) =>
  ms == null || !(Math.abs(ms) <= 8.64e15) ? null : new Date(ms).toISOString();

/** Results from an aggregate: every chosen driver appears, reported or not. */
export function resultsOf(record: TestRecord, aggregate: TestAggregate | undefined): TestResults {
  const chosen = record.lifecycle.drivers;
  const ids = [...new Set([...Object.keys(chosen), ...(aggregate?.nodes() ?? [])])].sort();
  const drivers: Record<string, DriverResult> = {};
  // Only a chosen driver that has not finished nor been lost sends at its last rate now.
  const running = (id: string) => chosen[id] === "running";
  for (const id of ids) {
    const stats = aggregate?.driverStats(id, running(id));
    drivers[id] = {
      ...(stats ?? emptyStats()),
      status: chosen[id] ?? "unchosen",
      report_id: stats?.report_id ?? null,
      final: stats?.final ?? false,
      reported_at: iso(stats?.reported_at ?? null),
      error: stats?.error ?? null,
      lost_reason: record.lifecycle.lost_reasons?.[id] ?? null,
    };
  }
  return { overall: overallOf(record, aggregate), drivers };
}

/** The overall results alone: the list of tests shows nothing per driver. */
export function overallOf(record: TestRecord, aggregate: TestAggregate | undefined): Stats {
  const chosen = record.lifecycle.drivers;
  return aggregate?.overall((id) => chosen[id] === "running") ?? emptyStats();
}

/** True when nothing more can change the test's state or progress. */
export function isSettled(record: TestRecord): boolean {
  return isTerminal(record.lifecycle.state) && !hasUnsettledDrivers(record.lifecycle);
}

/**
 * The full view of one test, secret headers redacted. The body is shown: views are the REST API's
 * answers, whose callers hold the API token (README "Security", "Secrets"); the outputs that are
 * not (the HTML report, the dashboard) hide it themselves.
 */
export function testView(record: TestRecord, results: TestResults): TestView {
  return {
    test_id: record.test_id,
    state: record.lifecycle.state,
    reason: record.lifecycle.reason ?? null,
    settled: isSettled(record),
    created_at: iso(record.created_at) ?? "",
    triggered_at: iso(record.triggered_at),
    ended_at: iso(record.ended_at),
    config: redactConfig(record.config, { showBody: true }),
    overall: results.overall,
    drivers: results.drivers,
  };
}

/** The list entry of one test. */
export function testSummary(record: TestRecord, overall: Stats): TestSummary {
  const { drivers: _drivers, ...rest } = testView(record, { overall, drivers: {} });
  return rest;
}

/** The view of a test whose stored data cannot be read: what is known, and why. */
export function corruptView(record: TestRecord, reason: string): TestView {
  const { overall } = resultsOf(
    { ...record, lifecycle: { state: "created", drivers: {} } },
    undefined,
  );
  return {
    ...testView(record, { overall, drivers: {} }),
    state: "corrupt",
    reason,
    settled: true,
  };
}
