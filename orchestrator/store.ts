/**
 * The orchestrator's embedded database (Deno's built-in `node:sqlite`): tests with their configs
 * and lifecycles, every accepted metrics snapshot (cumulative, with its histogram), and each
 * settled test's results and time series.
 *
 * Every snapshot is written before its Kafka message is acknowledged (the handler is synchronous
 * up to the write), so a crash loses nothing the orchestrator had already read; on restart the
 * snapshots are replayed to rebuild a test's aggregate and series exactly.
 *
 * A read or write that the disk or a lock refuses throws a StorageError (503) naming the
 * operation (database.ts); writes that belong together run in one {@link Store.transaction}, so a
 * reader never sees half of them.
 */
import { type MetricsMessage, parseMessage, type TestConfigMessage } from "../shared/messages.ts";
import { Database, type StorageHealth } from "./database.ts";
import { CorruptDataError } from "./errors.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { TestAge } from "./retention.ts";

/** A test as stored. */
export interface TestRecord {
  test_id: string;
  /** Epoch ms. */
  created_at: number;
  triggered_at: number | null;
  ended_at: number | null;
  config: TestConfigMessage;
  lifecycle: Lifecycle;
}

/** A test row with its cached results (present once the test has settled). */
export interface StoredTest extends TestRecord {
  results: unknown | null;
  series: unknown | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tests (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  test_id TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  triggered_at INTEGER,
  ended_at INTEGER,
  config TEXT NOT NULL,
  lifecycle TEXT NOT NULL,
  results TEXT,
  series TEXT
);
CREATE TABLE IF NOT EXISTS snapshots (
  test_id TEXT NOT NULL,
  node_id TEXT NOT NULL,
  report_id INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (test_id, node_id, report_id)
);
`;

type Row = Record<string, unknown>;

function toStoredTest(row: Row): StoredTest {
  return {
    test_id: String(row.test_id),
    created_at: Number(row.created_at),
    triggered_at: row.triggered_at == null ? null : Number(row.triggered_at),
    ended_at: row.ended_at == null ? null : Number(row.ended_at),
    config: JSON.parse(String(row.config)),
    lifecycle: JSON.parse(String(row.lifecycle)),
    results: row.results == null ? null : JSON.parse(String(row.results)),
    series: row.series == null ? null : JSON.parse(String(row.series)),
  };
}

/** The orchestrator's persistent state. Synchronous, like `node:sqlite` itself. */
export class Store {
  #db: Database;

  /**
   * Opens (creating if needed) the database at `path`; `":memory:"` for a throwaway one. A lock
   * held elsewhere is waited for `busyTimeoutMs` (default BUSY_TIMEOUT_MS, database.ts).
   */
  constructor(path: string, options: { busyTimeoutMs?: number } = {}) {
    this.#db = new Database(path, SCHEMA, options.busyTimeoutMs);
  }

  /** What the writes have met lately: writable, or failing since when and why. */
  health(): StorageHealth {
    return this.#db.health();
  }

  /** Runs `fn` as one transaction: all of its writes are stored, or none is (nested: joins). */
  transaction<T>(operation: string, fn: () => T): T {
    return this.#db.transaction(operation, fn);
  }

  /** A value from the meta table, created with `make()` on first use. */
  meta(key: string, make: () => string): string {
    const row = this.#db.read(
      `read "${key}"`,
      (db) => db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as Row | undefined,
    );
    if (row) return String(row.value);
    const value = make();
    this.#db.write(
      `save "${key}"`,
      (db) => db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)").run(key, value),
    );
    return value;
  }

  /** Adds a new test; throws when the id exists. */
  insertTest(test: TestRecord): void {
    this.#db.write(`insert test "${test.test_id}"`, (db) =>
      db.prepare(
        `INSERT INTO tests (test_id, state, created_at, triggered_at, ended_at, config, lifecycle)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        test.test_id,
        test.lifecycle.state,
        test.created_at,
        test.triggered_at,
        test.ended_at,
        JSON.stringify(test.config),
        JSON.stringify(test.lifecycle),
      ));
  }

  /** Saves a test's lifecycle and times. */
  updateTest(test: TestRecord): void {
    this.#db.write(`save test "${test.test_id}"`, (db) =>
      db.prepare(
        `UPDATE tests SET state = ?, triggered_at = ?, ended_at = ?, lifecycle = ? WHERE test_id = ?`,
      ).run(
        test.lifecycle.state,
        test.triggered_at,
        test.ended_at,
        JSON.stringify(test.lifecycle),
        test.test_id,
      ));
  }

  /**
   * Saves a settled test's lifecycle with its results and series (derivable from the snapshots,
   * but costly), in one statement: a reader sees the test settled with its results, or neither.
   */
  saveResults(test: TestRecord, results: unknown, series: unknown): void {
    this.#db.write(`save the results of test "${test.test_id}"`, (db) =>
      db.prepare(
        `UPDATE tests SET state = ?, ended_at = ?, lifecycle = ?, results = ?, series = ?
         WHERE test_id = ?`,
      ).run(
        test.lifecycle.state,
        test.ended_at,
        JSON.stringify(test.lifecycle),
        JSON.stringify(results),
        JSON.stringify(series),
        test.test_id,
      ));
  }

  /** One test, or undefined. */
  getTest(testId: string): StoredTest | undefined {
    const row = this.#db.read(
      `read test "${testId}"`,
      (db) => db.prepare("SELECT * FROM tests WHERE test_id = ?").get(testId) as Row | undefined,
    );
    return row ? toStoredTest(row) : undefined;
  }

  /** Tests, newest first. */
  listTests(limit = 1000): StoredTest[] {
    const rows = this.#db.read(
      "list tests",
      (db) => db.prepare("SELECT * FROM tests ORDER BY seq DESC LIMIT ?").all(limit) as Row[],
    );
    return rows.map(toStoredTest);
  }

  /**
   * Tests that may still change, oldest first: not yet ended, or ended without cached results
   * (stopped tests still draining, or a crash between the last snapshot and the cache).
   */
  openTests(): StoredTest[] {
    const rows = this.#db.read("list the open tests", (db) =>
      db.prepare(
        `SELECT * FROM tests WHERE state IN ('created', 'running') OR results IS NULL
         ORDER BY seq ASC`,
      ).all() as Row[]);
    return rows.map(toStoredTest);
  }

  /** Every test's id, creation time and whether it is settled (results stored), newest first. */
  testAges(): TestAge[] {
    const rows = this.#db.read("list tests", (db) =>
      db.prepare(
        `SELECT test_id, created_at,
           results IS NOT NULL AND state NOT IN ('created', 'running') AS settled
         FROM tests ORDER BY seq DESC`,
      ).all() as Row[]);
    return rows.map((r) => ({
      test_id: String(r.test_id),
      created_at: Number(r.created_at),
      settled: Number(r.settled) === 1,
    }));
  }

  /**
   * Deletes tests with their snapshots, results and series, all in one transaction. The space
   * is reused by new tests; the file does not shrink.
   */
  deleteTests(testIds: readonly string[]): void {
    const what = testIds.length === 1 ? `test "${testIds[0]}"` : `${testIds.length} tests`;
    this.transaction(`delete ${what}`, () => {
      for (const id of testIds) {
        this.#db.write(`delete test "${id}"`, (db) => {
          db.prepare("DELETE FROM snapshots WHERE test_id = ?").run(id);
          db.prepare("DELETE FROM tests WHERE test_id = ?").run(id);
        });
      }
    });
  }

  /**
   * Keeps one accepted snapshot as `text`, the message exactly as it was received and validated
   * (writing it as it came cost half of what serialising it again and writing that did); a
   * duplicate (same test, driver and report) is ignored.
   */
  addSnapshot(message: MetricsMessage, text: string, receivedAt: number): void {
    const { test_id, node_id, report_id } = message;
    this.#db.write(
      `store report ${report_id} of driver "${node_id}" for test "${test_id}"`,
      (db) =>
        db.prepare(
          `INSERT OR IGNORE INTO snapshots (test_id, node_id, report_id, received_at, message)
           VALUES (?, ?, ?, ?, ?)`,
        ).run(test_id, node_id, report_id, receivedAt, text),
    );
  }

  /**
   * A test's snapshots in the order they must be replayed (per driver by report id), each with
   * when it arrived (this host's clock). Each is validated again, as it was on receipt: it is kept
   * as received, so its defaults are filled in here. One that no longer validates (the file was
   * edited, or a later surge's rules refuse it) is a {@link CorruptDataError} naming it: the test
   * cannot be read.
   */
  snapshots(testId: string): { message: MetricsMessage; receivedAt: number }[] {
    const rows = this.#db.read(`read the metrics of test "${testId}"`, (db) =>
      db.prepare(
        `SELECT node_id, report_id, message, received_at FROM snapshots WHERE test_id = ?
         ORDER BY node_id, report_id`,
      ).all(testId) as Row[]);
    return rows.map((r) => {
      const parsed = parseMessage("metrics", String(r.message));
      if (!parsed.ok) {
        throw new CorruptDataError(
          `Stored report ${r.report_id} of driver "${r.node_id}" for test "${testId}" is not a ` +
            `valid metrics message (${parsed.error})`,
        );
      }
      return { message: parsed.value, receivedAt: Number(r.received_at) };
    });
  }

  /** The highest report id stored for a (test, driver), or -1. */
  lastReportId(testId: string, nodeId: string): number {
    const row = this.#db.read(`read the metrics of test "${testId}"`, (db) =>
      db.prepare(
        "SELECT MAX(report_id) AS r FROM snapshots WHERE test_id = ? AND node_id = ?",
      ).get(testId, nodeId) as Row | undefined);
    return row?.r == null ? -1 : Number(row.r);
  }

  close(): void {
    this.#db.close();
  }
}
