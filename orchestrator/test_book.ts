/**
 * The orchestrator's book of tests: the open (unsettled) tests in memory with their aggregates,
 * settled tests in the store with their cached results. Metrics are ingested here, lifecycle
 * events applied and saved here, and a test's results are cached once nothing can change them.
 * No I/O beyond the injected store.
 */
import type { TestSummary, TestView, TimeSeries } from "../shared/api.ts";
import type { Logger } from "../shared/log.ts";
import type { MetricsMessage } from "../shared/messages.ts";
import { scheduledRate } from "../shared/saturation.ts";
import { TestAggregate } from "./aggregator.ts";
import { NotFoundError } from "./errors.ts";
import { type LifecycleEvent, transition } from "./lifecycle.ts";
import type { Store, StoredTest, TestRecord } from "./store.ts";
import type { Series } from "./timeseries.ts";
import { isSettled, resultsOf, type TestResults, testSummary, testView } from "./test_view.ts";

/** Counts of metrics messages by what became of them, for `/healthz`. */
export interface MetricsCounters {
  metrics_accepted: number;
  metrics_ignored: number;
  metrics_unknown_test: number;
  metrics_bad_histogram: number;
}

/** Tests, their lifecycles and their aggregates. */
export class TestBook {
  readonly counters: MetricsCounters = {
    metrics_accepted: 0,
    metrics_ignored: 0,
    metrics_unknown_test: 0,
    metrics_bad_histogram: 0,
  };
  #store: Store;
  #log: Logger;
  #now: () => number;
  /** Tests that are not settled yet, by id. */
  #open = new Map<string, TestRecord>();
  #aggregates = new Map<string, TestAggregate>();

  constructor(deps: { store: Store; logger: Logger; now: () => number }) {
    this.#store = deps.store;
    this.#log = deps.logger;
    this.#now = deps.now;
  }

  /**
   * Loads the tests left open by the previous run and replays their snapshots; finals already
   * stored settle their drivers. Returns the tests that are still open.
   */
  recover(): TestRecord[] {
    for (const record of this.#store.openTests()) {
      this.#open.set(record.test_id, record);
      const aggregate = this.aggregate(record.test_id);
      for (const nodeId of aggregate.nodes()) {
        if (aggregate.latest(nodeId)?.final) {
          this.apply(record, { type: "driver_final", node_id: nodeId });
        }
      }
      this.settleIfDone(record);
    }
    return this.open();
  }

  /** The open tests, oldest first. */
  open(): TestRecord[] {
    return [...this.#open.values()];
  }

  /** A new test. */
  add(record: TestRecord): void {
    if (this.#open.has(record.test_id) || this.#store.getTest(record.test_id)) {
      throw new RangeError(`A test with id "${record.test_id}" already exists`);
    }
    this.#store.insertTest(record);
    this.#open.set(record.test_id, record);
  }

  /** A test by id; throws NotFoundError. */
  get(testId: string): TestRecord {
    const record = this.#open.get(testId) ?? this.#store.getTest(testId);
    if (!record) throw new NotFoundError(`No test with id "${testId}"`);
    return record;
  }

  /** Saves a test's lifecycle and times as they are now. */
  save(record: TestRecord): void {
    this.#store.updateTest(record);
  }

  /** Applies a lifecycle event and saves the test; returns the error of a refused event. */
  apply(record: TestRecord, event: LifecycleEvent): string | undefined {
    const result = transition(record.test_id, record.lifecycle, event);
    if (!result.ok) return result.error;
    if (result.lifecycle === record.lifecycle) return undefined;
    const before = record.lifecycle.state;
    record.lifecycle = result.lifecycle;
    if (before !== record.lifecycle.state) {
      if (record.lifecycle.state !== "running") record.ended_at ??= this.#now();
      this.#log.info(`test ${record.lifecycle.state}`, {
        test_id: record.test_id,
        reason: record.lifecycle.reason,
      });
    }
    this.#store.updateTest(record);
    return undefined;
  }

  /** Applies one event to every open test (a driver lost or back). */
  applyToOpen(event: LifecycleEvent): void {
    for (const record of this.open()) {
      this.apply(record, event);
      this.settleIfDone(record);
    }
  }

  /** Caches the results of a test that can no longer change and forgets its live state. */
  settleIfDone(record: TestRecord): void {
    if (!isSettled(record)) return;
    const aggregate = this.aggregate(record.test_id);
    this.#store.saveResults(record.test_id, resultsOf(record, aggregate), aggregate.series());
    this.#open.delete(record.test_id);
    this.#aggregates.delete(record.test_id);
  }

  /** The aggregate of a test, rebuilt from the stored snapshots when not in memory. */
  aggregate(testId: string): TestAggregate {
    let aggregate = this.#aggregates.get(testId);
    if (!aggregate) {
      aggregate = new TestAggregate(testId, () => {
        const record = this.#open.get(testId) ?? this.#store.getTest(testId);
        return {
          rate: record ? scheduledRate(record.config) : null,
          connections: record?.config.connections ?? 0,
          triggeredAt: record?.triggered_at ?? null,
        };
      });
      for (const message of this.#store.snapshots(testId)) {
        try {
          aggregate.accept(message);
        } catch {
          // Only snapshots that decoded once are stored; a failure here changes nothing.
        }
      }
      this.#aggregates.set(testId, aggregate);
    }
    return aggregate;
  }

  /** Takes one metrics message: newest snapshot per (test, driver) wins, and is stored. */
  ingest(message: MetricsMessage): void {
    let record = this.#open.get(message.test_id);
    if (!record) {
      const stored = this.#store.getTest(message.test_id);
      if (!stored) {
        this.counters.metrics_unknown_test++;
        this.#log.debug("metrics for an unknown test ignored", {
          test_id: message.test_id,
          node_id: message.node_id,
        });
        return;
      }
      // A settled test only changes for a report newer than every stored one.
      if (message.report_id <= this.#store.lastReportId(message.test_id, message.node_id)) {
        this.counters.metrics_ignored++;
        return;
      }
      record = stored;
    }
    let accepted: boolean;
    try {
      accepted = this.aggregate(record.test_id).accept(message);
    } catch (err) {
      this.counters.metrics_bad_histogram++;
      this.#log.warn("metrics with an undecodable histogram ignored", {
        test_id: message.test_id,
        node_id: message.node_id,
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    if (!accepted) {
      this.counters.metrics_ignored++;
      return;
    }
    this.counters.metrics_accepted++;
    this.#store.addSnapshot(message, this.#now());
    if (message.final) this.apply(record, { type: "driver_final", node_id: message.node_id });
    this.settleIfDone(record);
  }

  #results(record: TestRecord | StoredTest): TestResults {
    if (!this.#open.has(record.test_id)) {
      const cached = "results" in record ? record.results : null;
      if (cached) return cached as TestResults;
    }
    return resultsOf(record, this.aggregate(record.test_id));
  }

  /** One test with its live or final results. */
  view(testId: string): TestView {
    const record = this.get(testId);
    return testView(record, this.#results(record));
  }

  /** Tests, newest first, with overall results. */
  summaries(limit?: number): TestSummary[] {
    return this.#store.listTests(limit).map((stored) => {
      const open = this.#open.get(stored.test_id);
      const overall = open
        ? resultsOf(open, this.aggregate(stored.test_id)).overall
        : (stored.results as TestResults | null)?.overall ?? resultsOf(stored, undefined).overall;
      return testSummary(open ?? stored, overall);
    });
  }

  /** The per-second series of a test. */
  series(testId: string): TimeSeries {
    const record = this.get(testId);
    if (!this.#open.has(testId) && "series" in record && record.series) {
      return { test_id: testId, ...(record.series as Series) };
    }
    return { test_id: testId, ...this.aggregate(testId).series() };
  }
}
