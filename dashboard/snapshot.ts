/**
 * What the dashboard shows at one moment: drivers, recent tests and the test in focus with its
 * time series. Built from a {@link DashboardSource} (the orchestrator's controller satisfies it),
 * pushed over server-sent events every second.
 */
import type { Driver, Snapshot, TestSummary, TestView, TimeSeries } from "../shared/api.ts";
import { redactTest } from "../shared/redact.ts";

/**
 * The read side of the orchestrator that the dashboard needs, in the REST API's shapes. The
 * orchestrator passes its controller, so the dashboard depends on the contract, not on it.
 */
export interface DashboardSource {
  drivers(): Driver[];
  listTests(limit?: number): TestSummary[];
  /** Throws an ApiError with status 404 for an unknown test. */
  getTest(testId: string): TestView;
  timeseries(testId: string): TimeSeries;
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
  const tests = source.listTests(HISTORY_LIMIT).map(shown);
  const snapshot: Snapshot = { time: now, drivers: source.drivers(), tests, current: null };
  let id = focus ?? undefined;
  if (id !== undefined) {
    try {
      snapshot.current = { test: shown(source.getTest(id)), timeseries: source.timeseries(id) };
      return snapshot;
    } catch {
      snapshot.missing = id;
    }
  }
  id = (tests.find((t) => t.state === "running") ?? tests[0])?.test_id;
  if (id !== undefined) {
    snapshot.current = { test: shown(source.getTest(id)), timeseries: source.timeseries(id) };
  }
  return snapshot;
}

/**
 * A test as the dashboard shows it: secrets redacted and the request body hidden. The page never
 * shows the body, whoever looks at the screen need not hold the API token, and a body of up to
 * 1 MiB would otherwise travel with every snapshot.
 */
const shown = <T extends TestSummary>(test: T): T => redactTest(test, { showBody: false });
