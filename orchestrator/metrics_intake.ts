/**
 * How a metrics message reaches the test book: the acceptance rules (metrics_acceptance.ts) say
 * whether it may change its test, the test's aggregate keeps the newest snapshot per driver, and
 * an accepted snapshot is stored with what it changes (a final report settles its driver, maybe
 * the test) in one transaction or not at all: when the store refuses, the record and the
 * aggregate forget the message and the error goes back to the bus, which delivers it again
 * (shared/redelivery.ts). A report for a test whose stored data cannot be read is stored as
 * received, and changes nothing. No I/O beyond the injected store.
 */
import type { Logger } from "../shared/log.ts";
import type { MetricsMessage } from "../shared/messages.ts";
import type { TestAggregate } from "./aggregator.ts";
import type { Verdict } from "./driver_reports.ts";
import { CorruptDataError } from "./errors.ts";
import type { LifecycleEvent } from "./lifecycle.ts";
import { metricsRejection } from "./metrics_acceptance.ts";
import type { MetricsCounters } from "./metrics_counters.ts";
import type { Store, TestRecord } from "./store.ts";
import { isSettled } from "./test_view.ts";

/** What the intake needs of the test book. */
export interface IntakeBook {
  readonly counters: MetricsCounters;
  /** An open test by id. */
  openRecord(testId: string): TestRecord | undefined;
  /** Makes a test open again after a store refusal undid what closed it. */
  reopen(record: TestRecord): void;
  /** Why a test's stored data cannot be read, or undefined while nothing says so. */
  corruption(testId: string): string | undefined;
  /** A test's aggregate; CorruptDataError when its stored data cannot be read. */
  aggregate(testId: string): TestAggregate;
  /** Forgets a test's aggregate: it is rebuilt from the store on next use. */
  dropAggregate(testId: string): void;
  /** Applies a lifecycle event and saves the test; returns the error of a refused event. */
  apply(record: TestRecord, event: LifecycleEvent): string | undefined;
  /** Settles a settled test; throws when the store refuses. */
  settle(record: TestRecord): void;
}

/** What the intake works with. */
export interface MetricsIntakeDeps {
  book: IntakeBook;
  store: Pick<Store, "getTest" | "lastReportId" | "addSnapshot" | "transaction">;
  logger: Logger;
  now: () => number;
}

/** Takes metrics messages into the test book. */
export class MetricsIntake {
  #deps: MetricsIntakeDeps;

  constructor(deps: MetricsIntakeDeps) {
    this.#deps = deps;
  }

  /**
   * Takes one metrics message: newest snapshot per (test, driver) wins, and is stored. Only the
   * drivers a test was triggered on count, only their triggered run, only within the test's
   * window, and a settled test only for a grace period. `text` is the message as received, which
   * is what is stored.
   */
  ingest(message: MetricsMessage, text: string): void {
    const { book, logger, now } = this.#deps;
    const record = this.#recordFor(message);
    if (!record) return;
    if (book.corruption(record.test_id) !== undefined) return this.#keepUnread(message, text);
    let verdict: Verdict;
    try {
      verdict = book.aggregate(record.test_id).accept(message, now());
    } catch (err) {
      if (err instanceof CorruptDataError) return this.#keepUnread(message, text);
      book.counters.metrics_bad_histogram++;
      logger.warn("metrics with a bad histogram ignored", {
        test_id: message.test_id,
        node_id: message.node_id,
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    if (verdict === "stale") {
      book.counters.metrics_ignored++;
      return;
    }
    if (verdict === "unchained") {
      book.counters.metrics_unchained++;
      logger.debug("metrics ignored: histograms continue from a report not taken", {
        test_id: message.test_id,
        node_id: message.node_id,
        report_id: message.report_id,
        histograms_since: message.histograms_since,
      });
      return;
    }
    this.#keep(record, message, text);
    book.counters.metrics_accepted++;
  }

  /** Stores an accepted snapshot with what it changes, all or nothing (see the module comment). */
  #keep(record: TestRecord, message: MetricsMessage, text: string): void {
    const { book, store, now } = this.#deps;
    const before = { lifecycle: record.lifecycle, ended_at: record.ended_at };
    const wasOpen = book.openRecord(record.test_id) !== undefined;
    const keep = () => {
      store.addSnapshot(message, text, now());
      if (message.final) book.apply(record, { type: "driver_final", node_id: message.node_id });
      book.settle(record);
    };
    try {
      // Most reports change nothing but their own row: one statement is a transaction already.
      if (!message.final && !isSettled(record)) keep();
      else store.transaction(`store the metrics of test "${record.test_id}"`, keep);
    } catch (err) {
      Object.assign(record, before);
      if (wasOpen) book.reopen(record);
      book.dropAggregate(record.test_id);
      throw err;
    }
  }

  /**
   * Stores a report the acceptance rules let in for a test whose stored data cannot be read,
   * without reading the test: nothing can be added up, but once the damaged row is repaired a
   * restart replays this one too. A StorageError goes back to the bus, as in {@link #keep}.
   */
  #keepUnread(message: MetricsMessage, text: string): void {
    this.#deps.store.addSnapshot(message, text, this.#deps.now());
    this.#deps.book.counters.metrics_corrupt_test++;
    this.#deps.logger.debug("metrics stored unread: the test's stored data cannot be read", {
      test_id: message.test_id,
      node_id: message.node_id,
    });
  }

  /** The test a metrics message may change, or undefined (counted) when it may not. */
  #recordFor(message: MetricsMessage): TestRecord | undefined {
    const { book, store, logger, now } = this.#deps;
    const open = book.openRecord(message.test_id);
    const record = open ?? store.getTest(message.test_id);
    // A test found corrupt before it settled is no longer open, but its drivers may still be
    // running it: the rules for an open test apply to their reports.
    const unsettled = open !== undefined ||
      (record !== undefined && book.corruption(record.test_id) !== undefined &&
        !isSettled(record));
    const subject = record && {
      record,
      storedReportId: unsettled
        ? undefined
        : () => store.lastReportId(message.test_id, message.node_id),
    };
    const rejection = metricsRejection(message, subject, now());
    if (rejection === undefined) return record;
    book.counters[rejection.counter]++;
    logger.debug(`metrics ignored: ${rejection.why}`, {
      test_id: message.test_id,
      node_id: message.node_id,
    });
    return undefined;
  }
}
