/**
 * The orchestrator's SQLite connection (Deno's built-in `node:sqlite`) as the store uses it: every
 * statement runs through {@link Database.read} or {@link Database.write}, so a disk that is full, a
 * lock held too long or an I/O error arrives as a {@link StorageError} naming the operation, and
 * the writes' latest outcome is known for `/healthz`. Writes that belong together run in one
 * {@link Database.transaction}, so a reader never sees half of them.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { StorageError, storing } from "./storage_error.ts";

/**
 * How long a write waits for a lock another connection holds (a backup, an `sqlite3` shell)
 * before it fails with SQLITE_BUSY. node:sqlite is synchronous, so the wait blocks the process:
 * long enough to ride out a brief lock, far below Kafka's 10 s consumer session timeout.
 */
export const BUSY_TIMEOUT_MS = 1000;

/** What the writes have met lately, for `/healthz`. */
export interface StorageHealth {
  /** False from a failed write until a write succeeds again. */
  writable: boolean;
  /** The failure, while not writable. */
  error: string | null;
  /** When the writes started failing (epoch ms), while not writable. */
  failing_since: number | null;
}

const HEALTHY: StorageHealth = { writable: true, error: null, failing_since: null };

/**
 * The connection as the store's queries see it. `prepare` compiles each SQL text once and then
 * answers from a cache: compiling took as long as the insert of a metrics snapshot itself.
 */
export interface Sql {
  prepare(sql: string): StatementSync;
  exec(sql: string): void;
  readonly isTransaction: boolean;
}

/** One SQLite database in WAL mode whose failures are {@link StorageError}s. */
export class Database {
  #db: DatabaseSync;
  #health: StorageHealth = HEALTHY;
  #statements = new Map<string, StatementSync>();
  #sql: Sql;

  /**
   * Opens (creating if needed) the database at `path` and runs `schema`; throws when it cannot.
   * `busyTimeoutMs` is for tests that would rather not wait {@link BUSY_TIMEOUT_MS} per write.
   */
  constructor(path: string, schema: string, busyTimeoutMs = BUSY_TIMEOUT_MS) {
    try {
      this.#db = new DatabaseSync(path);
      // First, so that even switching to WAL waits for another process's lock.
      this.#db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)};`);
      // WAL keeps readers and the writer apart; NORMAL sync loses nothing on a process crash.
      this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
      this.#db.exec(schema);
    } catch (err) {
      throw new Error(`Cannot open the orchestrator database at ${path}`, { cause: err });
    }
    const db = this.#db;
    const statements = this.#statements;
    this.#sql = {
      prepare(sql) {
        let statement = statements.get(sql);
        if (!statement) {
          statement = db.prepare(sql);
          statements.set(sql, statement);
        }
        return statement;
      },
      exec: (sql) => db.exec(sql),
      get isTransaction() {
        return db.isTransaction;
      },
    };
  }

  /** What the writes have met lately: writable, or failing since when and why. */
  health(): StorageHealth {
    return this.#health;
  }

  /** Runs a query; a storage failure throws a StorageError naming `operation`. */
  read<T>(operation: string, query: (db: Sql) => T): T {
    return storing(operation, () => query(this.#sql));
  }

  /** Runs a write; a storage failure is remembered for {@link health} and thrown. */
  write<T>(operation: string, statement: (db: Sql) => T): T {
    try {
      const result = storing(operation, () => statement(this.#sql));
      // Inside a transaction nothing is stored before the commit, which ends in a write too.
      if (!this.#db.isTransaction) this.#health = HEALTHY;
      return result;
    } catch (err) {
      if (err instanceof StorageError) {
        this.#health = {
          writable: false,
          error: err.message,
          failing_since: this.#health.failing_since ?? Date.now(),
        };
      }
      throw err;
    }
  }

  /**
   * Runs `fn` as one transaction: all of its writes are stored, or none is. A call inside another
   * transaction joins it. The write lock is taken at once (`BEGIN IMMEDIATE`), so a lock held
   * elsewhere is waited for at the start, never half-way.
   */
  transaction<T>(operation: string, fn: () => T): T {
    if (this.#db.isTransaction) return fn();
    return this.write(operation, (db) => {
      db.exec("BEGIN IMMEDIATE");
      try {
        const result = fn();
        db.exec("COMMIT");
        return result;
      } catch (err) {
        // After SQLITE_FULL, IOERR or BUSY, SQLite may have rolled back by itself already.
        if (db.isTransaction) {
          try {
            db.exec("ROLLBACK");
          } catch { /* nothing of it was committed either way */ }
        }
        throw err;
      }
    });
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
