/**
 * Failures of the orchestrator's database that come from its surroundings — a full disk, a lock
 * held by another process for longer than the busy timeout, an I/O error — told apart from bugs.
 * They become a {@link StorageError}: the API answers 503 (try again later), the process stays
 * up, and a Kafka message whose handler met one is delivered again later instead of being
 * acknowledged as if it had been stored (shared/bus.ts, `isTransient`).
 *
 * Deno's `node:sqlite` reports no result code, only SQLite's message, so the cause is recognised
 * by the fixed wording SQLite gives each result code (`sqlite3ErrStr`). Anything else — a
 * constraint, a bad statement — is a bug, and stays the error it is (500).
 */
import { ApiError } from "../shared/api_error.ts";

/** SQLite's wording of each result code that says "not now" rather than "wrong", by code. */
const ENVIRONMENTAL: readonly (readonly [code: string, wording: string])[] = [
  ["SQLITE_FULL", "database or disk is full"],
  ["SQLITE_BUSY", "database is locked"],
  ["SQLITE_LOCKED", "database table is locked"],
  ["SQLITE_IOERR", "disk I/O error"],
  ["SQLITE_READONLY", "attempt to write a readonly database"],
  ["SQLITE_CANTOPEN", "unable to open database file"],
  ["SQLITE_PERM", "access permission denied"],
  ["SQLITE_NOMEM", "out of memory"],
  ["SQLITE_CORRUPT", "database disk image is malformed"],
  ["SQLITE_NOTADB", "file is not a database"],
  ["SQLITE_PROTOCOL", "locking protocol"],
];

/** How long a client should wait before trying again, for the `Retry-After` header (s). */
const RETRY_AFTER_S = 5;

/** The database could not be read or written for a reason outside the code: 503. */
export class StorageError extends ApiError {
  override name = "StorageError";
  /** SQLite's result code, e.g. `SQLITE_FULL`. */
  readonly code: string;
  /** Tells the message bus to deliver the message again later instead of skipping it. */
  readonly transient = true;

  constructor(operation: string, code: string, reason: string, options?: ErrorOptions) {
    super(503, `Storage unavailable: cannot ${operation}: ${reason} (${code})`, options);
    this.code = code;
  }

  /** The 503 answer, with a `Retry-After` header. */
  override getResponse(): Response {
    const response = super.getResponse();
    response.headers.set("retry-after", String(RETRY_AFTER_S));
    return response;
  }
}

/** The result code of an environmental SQLite failure, or undefined for any other error. */
export function storageFailureCode(err: unknown): string | undefined {
  if (!(err instanceof Error) || (err as { code?: unknown }).code !== "ERR_SQLITE_ERROR") {
    return undefined;
  }
  return ENVIRONMENTAL.find(([, wording]) => err.message.includes(wording))?.[0];
}

/**
 * Runs `fn`; an environmental SQLite failure becomes a {@link StorageError} that names
 * `operation` ("insert test \"t1\""). A StorageError from a nested call passes unchanged.
 */
export function storing<T>(operation: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const code = storageFailureCode(err);
    if (code === undefined) throw err;
    throw new StorageError(operation, code, (err as Error).message, { cause: err });
  }
}
