/**
 * The shapes the REST API returns for a test, derived from its stored record and its aggregate.
 * Pure, so the live view, the cached results of a settled test and the report are one format.
 */
import type { TestConfigMessage } from "../shared/messages.ts";
import { type Stats, type TestAggregate } from "./aggregator.ts";
import { emptyStats } from "./aggregator.ts";
import {
  type DriverProgress,
  hasUnsettledDrivers,
  isTerminal,
  type TestState,
} from "./lifecycle.ts";
import type { TestRecord } from "./store.ts";

/** One driver's part of a test. */
export interface DriverResult extends Stats {
  /** `running`, `final` (sent its last report) or `lost`; `unchosen` for an unexpected reporter. */
  status: DriverProgress | "unchosen";
  /** The newest report's id, or null before the first one. */
  report_id: number | null;
  final: boolean;
  /** When the driver took its newest report (ISO 8601), or null. */
  reported_at: string | null;
}

/** The results of a test: overall and per driver. */
export interface TestResults {
  overall: Stats;
  drivers: Record<string, DriverResult>;
}

/** A test as the API shows it. */
export interface TestView extends TestResults {
  test_id: string;
  state: TestState;
  reason: string | null;
  /** True once the state is final and every chosen driver has sent its final report or is lost. */
  settled: boolean;
  created_at: string;
  triggered_at: string | null;
  ended_at: string | null;
  config: TestConfigMessage;
}

/** A test in a list: no per-driver detail. */
export type TestSummary = Omit<TestView, "drivers">;

const iso = (ms: number | null) => ms == null ? null : new Date(ms).toISOString();

/** Results from an aggregate: every chosen driver appears, reported or not. */
export function resultsOf(record: TestRecord, aggregate: TestAggregate | undefined): TestResults {
  const chosen = record.lifecycle.drivers;
  const ids = [...new Set([...Object.keys(chosen), ...(aggregate?.nodes() ?? [])])].sort();
  const drivers: Record<string, DriverResult> = {};
  for (const id of ids) {
    const stats = aggregate?.driverStats(id);
    drivers[id] = {
      ...(stats ?? emptyStats()),
      status: chosen[id] ?? "unchosen",
      report_id: stats?.report_id ?? null,
      final: stats?.final ?? false,
      reported_at: iso(stats?.reported_at ?? null),
    };
  }
  return { overall: structuredClone(aggregate?.overall() ?? emptyStats()), drivers };
}

/** True when nothing more can change the test's state or progress. */
export function isSettled(record: TestRecord): boolean {
  return isTerminal(record.lifecycle.state) && !hasUnsettledDrivers(record.lifecycle);
}

/** The full view of one test. */
export function testView(record: TestRecord, results: TestResults): TestView {
  return {
    test_id: record.test_id,
    state: record.lifecycle.state,
    reason: record.lifecycle.reason ?? null,
    settled: isSettled(record),
    created_at: iso(record.created_at)!,
    triggered_at: iso(record.triggered_at),
    ended_at: iso(record.ended_at),
    config: record.config,
    overall: results.overall,
    drivers: results.drivers,
  };
}

/** The list entry of one test. */
export function testSummary(record: TestRecord, overall: Stats): TestSummary {
  const { drivers: _drivers, ...rest } = testView(record, { overall, drivers: {} });
  return rest;
}
