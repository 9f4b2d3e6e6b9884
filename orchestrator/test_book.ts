/**
 * The orchestrator's book of tests: the open (unsettled) tests in memory, settled tests in the
 * store with their cached results. Lifecycle events are applied and saved here, and a test's
 * results are cached once nothing can change them. Aggregates are kept by aggregate_cache.ts,
 * metrics_intake.ts takes the metrics in, and test_reads.ts answers the REST reads.
 * No I/O beyond the injected store.
 *
 * When the store refuses a write (StorageError: disk full, database locked), what happened is
 * kept apart from what was recorded (for a metrics message, see metrics_intake.ts): a driver lost
 * or back stands in memory, and a settlement the store refused is tried again by
 * {@link TestBook.upkeep}.
 */
import type { TestSummary, TestView, TimeSeries } from "../shared/api.ts";
import type { Logger } from "../shared/log.ts";
import type { MetricsMessage } from "../shared/messages.ts";
import { AggregateCache } from "./aggregate_cache.ts";
import type { TestAggregate } from "./aggregator.ts";
import { CorruptDataError, NotFoundError } from "./errors.ts";
import { type LifecycleEvent, transition } from "./lifecycle.ts";
import { MetricsIntake } from "./metrics_intake.ts";
import { type MetricsCounters, zeroCounters } from "./metrics_counters.ts";
import { StorageError } from "./storage_error.ts";
import type { Store, TestRecord } from "./store.ts";
import { TestReads } from "./test_reads.ts";
import { isSettled, resultsOf } from "./test_view.ts";

/** How long {@link TestBook.upkeep} waits after the store refused a settlement. */
const UPKEEP_RETRY_MS = 5000;

/** Tests, their lifecycles and their aggregates. */
export class TestBook {
  readonly counters: MetricsCounters = zeroCounters();
  #store: Store;
  #log: Logger;
  #now: () => number;
  /** Tests that are not settled yet, by id. */
  #open = new Map<string, TestRecord>();
  #aggregates: AggregateCache;
  /** When {@link upkeep} may try the store again after it refused a settlement. */
  #upkeepAt = 0;
  #settled = 0;
  #reads: TestReads;
  #intake: MetricsIntake;

  constructor(deps: { store: Store; logger: Logger; now: () => number }) {
    this.#store = deps.store;
    this.#log = deps.logger;
    this.#now = deps.now;
    this.#aggregates = new AggregateCache(
      deps.store,
      (testId) => this.#open.get(testId) ?? this.#store.getTest(testId),
    );
    this.#intake = new MetricsIntake({ ...deps, book: this });
    this.#reads = new TestReads({
      store: deps.store,
      open: this.#open,
      aggregate: (testId) => this.aggregate(testId),
      logger: deps.logger,
      onCorrupt: (testId) => {
        // Nothing can settle a test whose data cannot be read: it stops being open.
        this.counters.handler_errors++;
        this.#open.delete(testId);
        this.#aggregates.delete(testId);
      },
    });
  }

  /**
   * Loads the tests left open by the previous run and replays their snapshots; finals already
   * stored settle their drivers. Returns the tests that are still open.
   */
  recover(): TestRecord[] {
    for (const record of this.#store.openTests()) {
      try {
        this.#open.set(record.test_id, record);
        const aggregate = this.aggregate(record.test_id);
        for (const nodeId of aggregate.nodes()) {
          if (aggregate.latest(nodeId)?.final) {
            this.#applyInMemory(record, { type: "driver_final", node_id: nodeId });
          }
        }
        this.settleIfDone(record);
      } catch (err) {
        // One test's unreadable data must not keep the orchestrator from starting. A store that
        // refuses to read now (a lock) is not the test's fault: its aggregate is read on next use.
        if (err instanceof StorageError) this.#refused(err, record);
        else this.#reads.markCorrupt(record.test_id, err);
      }
    }
    return this.open();
  }

  /**
   * Drops a created test whose config could not be published: no driver or other orchestrator
   * has heard of it, so it never existed.
   */
  discard(testId: string): void {
    this.#open.delete(testId);
    this.#aggregates.delete(testId);
    this.#store.deleteTests([testId]);
  }

  /** The open tests, oldest first. */
  open(): TestRecord[] {
    return [...this.#open.values()];
  }

  /** True while a test may still change (it is not settled, or its settlement not stored). */
  isOpen(testId: string): boolean {
    return this.#open.has(testId);
  }

  /** How many tests have settled since start (retention runs after each). */
  get settled(): number {
    return this.#settled;
  }

  /** Drops what is known of a test that was deleted from the store. */
  forget(testId: string): void {
    this.#aggregates.delete(testId);
    this.#reads.forget(testId);
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

  /**
   * Applies a lifecycle event and saves the test; returns the error of a refused event. Throws a
   * StorageError when the store refuses the save, the event applied in memory.
   */
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

  /**
   * Applies one event to every open test (a driver lost or back). It stands even when the store
   * refuses to save it: the next save of the test, or its settlement, records it.
   */
  applyToOpen(event: LifecycleEvent): void {
    for (const record of this.open()) {
      this.#applyInMemory(record, event);
      this.settleIfDone(record);
    }
  }

  /** Applies one event to one open test (ignored when it is no longer open). */
  applyTo(testId: string, event: LifecycleEvent): void {
    const record = this.#open.get(testId);
    if (!record) return;
    this.#applyInMemory(record, event);
    this.settleIfDone(record);
  }

  /** {@link apply}, the event standing in memory when the store refuses to save it. */
  #applyInMemory(record: TestRecord, event: LifecycleEvent): void {
    try {
      this.apply(record, event);
    } catch (err) {
      this.#refused(err, record);
    }
  }

  /**
   * Caches the results of a test that can no longer change and forgets its live state. When the
   * store refuses, the test stays open, settled in memory, and {@link upkeep} tries again.
   */
  settleIfDone(record: TestRecord): void {
    try {
      this.settle(record);
    } catch (err) {
      this.#refused(err, record);
    }
  }

  /** Settles the tests whose settlement the store refused, once it may have recovered. */
  upkeep(): void {
    if (this.#now() < this.#upkeepAt) return;
    for (const record of this.open()) if (isSettled(record)) this.settleIfDone(record);
  }

  /**
   * A StorageError is logged and waited out (upkeep); a test whose data cannot be read is marked
   * corrupt already (it is no longer open); any other error is a bug, thrown.
   */
  #refused(err: unknown, record: TestRecord): void {
    if (err instanceof CorruptDataError) return;
    if (!(err instanceof StorageError)) throw err;
    this.#upkeepAt = this.#now() + UPKEEP_RETRY_MS;
    this.#log.warn("the store refused a test's state; it is kept in memory and saved later", {
      test_id: record.test_id,
      state: record.lifecycle.state,
      error: err.message,
    });
  }

  /**
   * Caches the results of a settled test and forgets its live state; throws when the store
   * refuses (StorageError) or the test's data cannot be read (CorruptDataError).
   */
  settle(record: TestRecord): void {
    if (!isSettled(record)) return;
    const aggregate = this.aggregate(record.test_id);
    this.#store.saveResults(record, resultsOf(record, aggregate), aggregate.series());
    this.#settled++;
    this.#open.delete(record.test_id);
    this.#aggregates.delete(record.test_id);
  }

  /**
   * The aggregate of a test, rebuilt from the stored snapshots when not in memory. A test whose
   * snapshots cannot be read throws {@link CorruptDataError}, and is remembered as corrupt: it is
   * not replayed again, and it is no longer open.
   */
  aggregate(testId: string): TestAggregate {
    const known = this.#reads.corruption(testId);
    if (known !== undefined) throw new CorruptDataError(`Test "${testId}": ${known}`);
    try {
      return this.#aggregates.get(testId);
    } catch (err) {
      if (err instanceof CorruptDataError) this.#reads.markCorrupt(testId, err);
      throw err;
    }
  }

  /**
   * Takes one metrics message (metrics_intake.ts); `text` is the message as received, which is
   * what is stored.
   */
  ingest(message: MetricsMessage, text: string): void {
    this.#intake.ingest(message, text);
  }

  /** An open test by id. */
  openRecord(testId: string): TestRecord | undefined {
    return this.#open.get(testId);
  }

  /** Makes a test open again after a store refusal undid what closed it. */
  reopen(record: TestRecord): void {
    this.#open.set(record.test_id, record);
  }

  /** Forgets a test's aggregate: it is rebuilt from the store on next use. */
  dropAggregate(testId: string): void {
    this.#aggregates.delete(testId);
  }

  /** Why a test's stored data cannot be read, or undefined while nothing says so. */
  corruption(testId: string): string | undefined {
    return this.#reads.corruption(testId);
  }

  /** One test with its live or final results; a test whose data cannot be read is `corrupt`. */
  view(testId: string): TestView {
    return this.#reads.view(this.get(testId));
  }

  /** Tests, newest first, with overall results; one that cannot be read is listed `corrupt`. */
  summaries(limit?: number): TestSummary[] {
    return this.#reads.summaries(limit);
  }

  /** The per-second series of a test. */
  series(testId: string): TimeSeries {
    return this.#reads.series(this.get(testId));
  }
}
