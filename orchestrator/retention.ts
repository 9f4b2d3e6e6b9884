/**
 * Deleting tests: on request (`DELETE /api/tests/{id}`) and by the retention policy (`--retain`,
 * `--retain-days`), at start and after each test settles. Only a settled test is ever deleted —
 * one that can still change has snapshots yet to come. Which tests go is decided by pure
 * functions ({@link expiredTests}, {@link notDeletable}); {@link Retention} carries it out.
 */
import type { Logger } from "../shared/log.ts";
import { ConflictError } from "./errors.ts";
import type { Lifecycle } from "./lifecycle.ts";
import { hasUnsettledDrivers } from "./lifecycle.ts";
import { StorageError } from "./storage_error.ts";
import type { Store } from "./store.ts";
import type { TestBook } from "./test_book.ts";

/** How many and how old settled tests the orchestrator keeps. */
export interface RetentionPolicy {
  /** Keep the newest this many tests (open ones count, but are never deleted); 0: no limit. */
  keepTests: number;
  /** Delete settled tests created more than this many days ago; 0: no age limit. */
  keepDays: number;
}

/** A stored test as retention sees it. */
export interface TestAge {
  test_id: string;
  /** Epoch ms. */
  created_at: number;
  /** Settled, with its results stored: nothing can change it any more. */
  settled: boolean;
}

const DAY_MS = 86_400_000;

/** The settled tests `policy` no longer keeps, from `tests` listed newest first. */
export function expiredTests(
  tests: readonly TestAge[],
  policy: RetentionPolicy,
  now: number,
): string[] {
  const bornBefore = policy.keepDays > 0 ? now - policy.keepDays * DAY_MS : -Infinity;
  const tooMany = (rank: number) => policy.keepTests > 0 && rank >= policy.keepTests;
  return tests.filter((t, rank) => t.settled && (tooMany(rank) || t.created_at < bornBefore))
    .map((t) => t.test_id);
}

/**
 * Why a test cannot be deleted yet, for the 409 answer; undefined when it can. `resultsStored`:
 * its settlement is in the store, not only in memory.
 */
export function notDeletable(
  testId: string,
  lifecycle: Lifecycle,
  resultsStored: boolean,
): string | undefined {
  const refused = `Cannot delete test "${testId}"`;
  const { state } = lifecycle;
  if (state === "created") return `${refused}: it is created; stop it first`;
  if (state === "running") {
    return `${refused}: it is running; stop it, or wait until it has finished`;
  }
  if (hasUnsettledDrivers(lifecycle)) {
    return `${refused}: it is ${state}, but its drivers are still sending their final metrics; ` +
      "try again in a few seconds";
  }
  if (!resultsStored) {
    return `${refused}: it is ${state}, but its results are not stored yet; try again later`;
  }
  return undefined;
}

/** How long the policy waits after the store refused to delete. */
const RETRY_MS = 5000;

/** Deletes tests from the store and the test book. */
export class Retention {
  #book: TestBook;
  #store: Store;
  #policy: RetentionPolicy | undefined;
  #log: Logger;
  #now: () => number;
  /** The book's settled count when the policy last ran; -1: not yet since start. */
  #ranAt = -1;
  #retryAt = 0;

  constructor(deps: {
    book: TestBook;
    store: Store;
    /** Absent: every test is kept. */
    policy: RetentionPolicy | undefined;
    logger: Logger;
    now: () => number;
  }) {
    this.#book = deps.book;
    this.#store = deps.store;
    this.#policy = deps.policy;
    this.#log = deps.logger;
    this.#now = deps.now;
  }

  /**
   * Deletes a settled test with its snapshots and results; NotFoundError, ConflictError. A test
   * whose stored data cannot be read goes whatever its state: nothing can settle it any more.
   */
  remove(testId: string): void {
    const record = this.#book.get(testId);
    const stored = !this.#book.isOpen(testId) && "results" in record && record.results !== null;
    const why = notDeletable(testId, record.lifecycle, stored);
    if (why && this.#book.corruption(testId) === undefined) throw new ConflictError(why);
    this.#store.deleteTests([testId]);
    this.#book.forget(testId);
  }

  /**
   * Applies the policy if a test has settled since it last ran (or it has not run yet). A
   * refusal of the store is logged and tried again 5 s later; it is never thrown, so a timer
   * can call this.
   */
  upkeep(): void {
    const settled = this.#book.settled;
    if (!this.#policy || settled === this.#ranAt || this.#now() < this.#retryAt) return;
    let expired: string[];
    try {
      const tests = this.#store.testAges().map((t) =>
        this.#book.isOpen(t.test_id) ? { ...t, settled: false } : t
      );
      expired = expiredTests(tests, this.#policy, this.#now());
      if (expired.length > 0) this.#store.deleteTests(expired);
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      this.#retryAt = this.#now() + RETRY_MS;
      this.#log.warn("cannot delete old tests yet", { error: err.message });
      return;
    }
    this.#ranAt = settled;
    for (const id of expired) this.#book.forget(id);
    if (expired.length > 0) {
      this.#log.info("old tests deleted (retention)", { count: expired.length });
    }
  }
}
