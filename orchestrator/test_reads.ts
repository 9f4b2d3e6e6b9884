/**
 * What the REST API reads of the test book: one test's view, the list and the per-second series.
 * An open test is read live from its aggregate, a settled one from the results and series cached
 * at settlement. A test whose stored data cannot be read is shown as `corrupt` (with the reason)
 * instead of failing every list that includes it; a StorageError is the store's, not the test's,
 * and goes up as a 503.
 */
import type { TestSummary, TestView, TimeSeries } from "../shared/api.ts";
import type { Logger } from "../shared/log.ts";
import type { TestAggregate } from "./aggregator.ts";
import { StorageError } from "./storage_error.ts";
import type { Store, StoredTest, TestRecord } from "./store.ts";
import type { Series } from "./timeseries.ts";
import {
  corruptView,
  overallOf,
  resultsOf,
  type TestResults,
  testSummary,
  testView,
} from "./test_view.ts";

/** What the reads need of the test book. */
export interface TestReadsDeps {
  store: Pick<Store, "listTests">;
  /** The book's open tests by id: their results are live, never cached. */
  open: ReadonlyMap<string, TestRecord>;
  /** A test's aggregate (the book keeps them, rebuilding one from the store when needed). */
  aggregate: (testId: string) => TestAggregate;
  logger: Logger;
  /** Called once for each test found unreadable (it counts as a handler error). */
  onCorrupt: (testId: string) => void;
}

/** The test book's reads, and the tests found unreadable. */
export class TestReads {
  #deps: TestReadsDeps;
  /** Tests whose stored data could not be read, with the reason; shown as `corrupt`. */
  #corrupt = new Map<string, string>();

  constructor(deps: TestReadsDeps) {
    this.#deps = deps;
  }

  /** Shows a test as `corrupt` from now on, logging why (once: a test found again is not). */
  markCorrupt(testId: string, err: unknown): void {
    if (this.#corrupt.has(testId)) return;
    const reason = `stored data cannot be read: ${err instanceof Error ? err.message : err}`;
    this.#corrupt.set(testId, reason);
    this.#deps.onCorrupt(testId);
    this.#deps.logger.error("test data cannot be read; showing it as corrupt", {
      test_id: testId,
      error: reason,
    });
  }

  /** Forgets a deleted test's mark. */
  forget(testId: string): void {
    this.#corrupt.delete(testId);
  }

  /** Why a test's stored data cannot be read, or undefined while nothing says so. */
  corruption(testId: string): string | undefined {
    return this.#corrupt.get(testId);
  }

  #results(record: TestRecord | StoredTest): TestResults {
    if (!this.#deps.open.has(record.test_id)) {
      const cached = "results" in record ? record.results : null;
      if (cached) return cached as TestResults;
    }
    return resultsOf(record, this.#deps.aggregate(record.test_id));
  }

  /** One test with its live or final results; a test whose data cannot be read is `corrupt`. */
  view(record: TestRecord | StoredTest): TestView {
    const testId = record.test_id;
    const corrupt = this.#corrupt.get(testId);
    if (corrupt === undefined) {
      try {
        return testView(record, this.#results(record));
      } catch (err) {
        if (err instanceof StorageError) throw err; // the store, not the test: 503, not corrupt
        this.markCorrupt(testId, err);
      }
    }
    return corruptView(record, this.#corrupt.get(testId)!);
  }

  /** Tests, newest first, with overall results; one that cannot be read is listed `corrupt`. */
  summaries(limit?: number): TestSummary[] {
    return this.#deps.store.listTests(limit).map((stored) => {
      const open = this.#deps.open.get(stored.test_id);
      const record = open ?? stored;
      const corrupt = this.#corrupt.get(stored.test_id);
      if (corrupt === undefined) {
        try {
          const overall = open
            ? overallOf(open, this.#deps.aggregate(stored.test_id))
            : (stored.results as TestResults | null)?.overall ?? overallOf(stored, undefined);
          return testSummary(record, overall);
        } catch (err) {
          if (err instanceof StorageError) throw err; // the store, not the test: 503
          this.markCorrupt(stored.test_id, err);
        }
      }
      const { drivers: _drivers, ...summary } = corruptView(
        record,
        this.#corrupt.get(stored.test_id)!,
      );
      return summary;
    });
  }

  /** The per-second series of a test. */
  series(record: TestRecord | StoredTest): TimeSeries {
    const testId = record.test_id;
    if (!this.#deps.open.has(testId) && "series" in record && record.series) {
      return { test_id: testId, ...(record.series as Series) };
    }
    return { test_id: testId, ...this.#deps.aggregate(testId).series() };
  }
}
