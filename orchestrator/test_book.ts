/**
 * The orchestrator's book of tests: the open (unsettled) tests in memory, settled tests in the
 * store with their cached results. Lifecycle events are applied and saved here, the metrics that
 * metrics_acceptance.ts lets in are stored here, and a test's results are cached once nothing can
 * change them. Aggregates are kept by aggregate_cache.ts; test_reads.ts answers the REST reads.
 * No I/O beyond the injected store.
 *
 * When the store refuses a write (StorageError: disk full, database locked), what happened is
 * kept apart from what was recorded: a metrics message is stored with its consequences in one
 * transaction or not at all (the bus then delivers it again); a driver lost or back stands in
 * memory, and a settlement the store refused is tried again by {@link TestBook.upkeep}.
 */
import type { TestSummary, TestView, TimeSeries } from "../shared/api.ts";
import type { Logger } from "../shared/log.ts";
import type { MetricsMessage } from "../shared/messages.ts";
import { AggregateCache } from "./aggregate_cache.ts";
import type { TestAggregate } from "./aggregator.ts";
import { CorruptDataError, NotFoundError } from "./errors.ts";
import { type LifecycleEvent, transition } from "./lifecycle.ts";
import { metricsRejection } from "./metrics_acceptance.ts";
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

  constructor(deps: { store: Store; logger: Logger; now: () => number }) {
    this.#store = deps.store;
    this.#log = deps.logger;
    this.#now = deps.now;
    this.#aggregates = new AggregateCache(
      deps.store,
      (testId) => this.#open.get(testId) ?? this.#store.getTest(testId),
    );
    this.#reads = new TestReads({
      store: deps.store,
      open: this.#open,
      aggregate: (testId) => this.aggregate(testId),
      logger: deps.logger,
      onCorrupt: () => this.counters.handler_errors++,
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
        // One test's unreadable data must not keep the orchestrator from starting.
        this.#markCorrupt(record.test_id, err);
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

  /** Drops what is cached of a test that was deleted from the store. */
  forget(testId: string): void {
    this.#aggregates.delete(testId);
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
      this.#settle(record);
    } catch (err) {
      this.#refused(err, record);
    }
  }

  /** Settles the tests whose settlement the store refused, once it may have recovered. */
  upkeep(): void {
    if (this.#now() < this.#upkeepAt) return;
    for (const record of this.open()) if (isSettled(record)) this.settleIfDone(record);
  }

  /** A StorageError is logged and waited out (upkeep); any other error is a bug, thrown. */
  #refused(err: unknown, record: TestRecord): void {
    if (!(err instanceof StorageError)) throw err;
    this.#upkeepAt = this.#now() + UPKEEP_RETRY_MS;
    this.#log.warn("the store refused a test's state; it is kept in memory and saved later", {
      test_id: record.test_id,
      state: record.lifecycle.state,
      error: err.message,
    });
  }

  #settle(record: TestRecord): void {
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
      if (err instanceof CorruptDataError) this.#markCorrupt(testId, err);
      throw err;
    }
  }

  /**
   * A test whose data cannot be read leaves the open tests (nothing can settle it) and is shown
   * as `corrupt` from now on.
   */
  #markCorrupt(testId: string, err: unknown): void {
    this.#open.delete(testId);
    this.#aggregates.delete(testId);
    this.#reads.markCorrupt(testId, err);
  }

  /**
   * Takes one metrics message: newest snapshot per (test, driver) wins, and is stored. Only the
   * drivers a test was triggered on count, only their triggered run, only within the test's
   * window, and a settled test only for a grace period (metrics_acceptance.ts). `text` is the
   * message as received, which is what is stored. A report for a test whose stored data cannot be
   * read is stored as received too, but changes nothing ({@link #keepUnread}).
   */
  ingest(message: MetricsMessage, text: string): void {
    if (this.#reads.corruption(message.test_id) !== undefined) {
      return this.#keepUnread(message, text);
    }
    const record = this.#recordFor(message);
    if (!record) return;
    let accepted: boolean;
    try {
      accepted = this.aggregate(record.test_id).accept(message, this.#now());
    } catch (err) {
      if (err instanceof CorruptDataError) return this.#keepUnread(message, text);
      this.counters.metrics_bad_histogram++;
      this.#log.warn("metrics with a bad histogram ignored", {
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
    this.#keep(record, message, text);
    this.counters.metrics_accepted++;
  }

  /**
   * Stores an accepted snapshot with what it changes (a final report settles its driver, maybe
   * the test) in one transaction. When the store refuses, none of it happened: the record and the
   * aggregate (rebuilt from the store on next use) forget the message, and the error goes back to
   * the bus, which delivers the message again later (shared/redelivery.ts).
   */
  #keep(record: TestRecord, message: MetricsMessage, text: string): void {
    const before = { lifecycle: record.lifecycle, ended_at: record.ended_at };
    const wasOpen = this.#open.has(record.test_id);
    const keep = () => {
      this.#store.addSnapshot(message, text, this.#now());
      if (message.final) this.apply(record, { type: "driver_final", node_id: message.node_id });
      this.#settle(record);
    };
    try {
      // Most reports change nothing but their own row: one statement is a transaction already.
      if (!message.final && !isSettled(record)) keep();
      else this.#store.transaction(`store the metrics of test "${record.test_id}"`, keep);
    } catch (err) {
      Object.assign(record, before);
      if (wasOpen) this.#open.set(record.test_id, record);
      this.#aggregates.delete(record.test_id);
      throw err;
    }
  }

  /**
   * Stores a valid report of a test whose stored data cannot be read, without reading the test:
   * nothing can be aggregated, but once the damaged row is repaired a restart replays this one
   * too. A StorageError goes back to the bus, as in {@link #keep}.
   */
  #keepUnread(message: MetricsMessage, text: string): void {
    this.#store.addSnapshot(message, text, this.#now());
    this.counters.metrics_corrupt_test++;
    this.#log.debug("metrics stored unread: the test's stored data cannot be read", {
      test_id: message.test_id,
      node_id: message.node_id,
    });
  }

  /** The test a metrics message may change, or undefined (counted) when it may not. */
  #recordFor(message: MetricsMessage): TestRecord | undefined {
    const open = this.#open.get(message.test_id);
    const record = open ?? this.#store.getTest(message.test_id);
    const subject = record && {
      record,
      storedReportId: open
        ? undefined
        : () => this.#store.lastReportId(message.test_id, message.node_id),
    };
    const rejection = metricsRejection(message, subject, this.#now());
    if (rejection === undefined) return record;
    this.counters[rejection.counter]++;
    this.#log.debug(`metrics ignored: ${rejection.why}`, {
      test_id: message.test_id,
      node_id: message.node_id,
    });
    return undefined;
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
