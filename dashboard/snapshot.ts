/**
 * What the dashboard shows at one moment: drivers, recent tests and the test in focus with its
 * time series. Built from a {@link DashboardSource} (the orchestrator's controller satisfies it),
 * pushed over server-sent events every second.
 */
import type { TestSummary, TestView } from "../orchestrator/test_view.ts";
import type { TimeSeries } from "../orchestrator/timeseries.ts";

/** The read side of the orchestrator that the dashboard needs. */
export interface DashboardSource {
  drivers(): unknown[];
  listTests(limit?: number): TestSummary[];
  /** Throws (NotFoundError) for an unknown test. */
  getTest(testId: string): TestView;
  timeseries(testId: string): TimeSeries;
}

/** One push to the dashboard. */
export interface Snapshot {
  /** Server time (epoch ms). */
  time: number;
  drivers: unknown[];
  /** The newest tests, newest first. */
  tests: TestSummary[];
  /** The test in focus, or null when there is none. */
  current: { test: TestView; timeseries: TimeSeries } | null;
  /** Set when the requested test does not exist. */
  missing?: string;
}

/** How many tests the history shows. */
export const HISTORY_LIMIT = 25;

/**
 * The test in focus: the one asked for, else a running one, else the newest. A test asked for
 * that does not exist falls back to the default and is reported as `missing`.
 */
export function buildSnapshot(
  source: DashboardSource,
  now: number,
  focus?: string | null,
): Snapshot {
  const tests = source.listTests(HISTORY_LIMIT);
  const snapshot: Snapshot = { time: now, drivers: source.drivers(), tests, current: null };
  let id = focus ?? undefined;
  if (id !== undefined) {
    try {
      snapshot.current = { test: source.getTest(id), timeseries: source.timeseries(id) };
      return snapshot;
    } catch {
      snapshot.missing = id;
    }
  }
  id = (tests.find((t) => t.state === "running") ?? tests[0])?.test_id;
  if (id !== undefined) {
    snapshot.current = { test: source.getTest(id), timeseries: source.timeseries(id) };
  }
  return snapshot;
}
