import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { StorageError, storageFailureCode, storing } from "../../orchestrator/storage_error.ts";
import { thrown } from "../support/thrown.ts";

/** An error shaped as Deno's node:sqlite throws them: only a code and SQLite's message. */
function sqliteError(message: string): Error {
  return Object.assign(new Error(message), { code: "ERR_SQLITE_ERROR" });
}

Deno.test("storageFailureCode(): SQLite's wording of environmental failures, nothing else", () => {
  const table: [string, unknown, string | undefined][] = [
    ["full disk", sqliteError("database or disk is full"), "SQLITE_FULL"],
    ["lock held elsewhere", sqliteError("database is locked"), "SQLITE_BUSY"],
    ["table lock", sqliteError("database table is locked"), "SQLITE_LOCKED"],
    ["I/O", sqliteError("disk I/O error"), "SQLITE_IOERR"],
    ["read-only", sqliteError("attempt to write a readonly database"), "SQLITE_READONLY"],
    ["corrupt", sqliteError("database disk image is malformed"), "SQLITE_CORRUPT"],
    ["constraint: a bug", sqliteError("UNIQUE constraint failed: tests.test_id"), undefined],
    ["bad SQL: a bug", sqliteError("no such table: nope"), undefined],
    ["not from SQLite", new Error("database or disk is full"), undefined],
    ["not an error", "database is locked", undefined],
  ];
  for (const [name, err, want] of table) assert.equal(storageFailureCode(err), want, name);
});

Deno.test("storing() turns a real SQLite failure into a 503 naming the operation", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-storage-error-" });
  new DatabaseSync(`${dir}/db.sqlite`).close();
  const db = new DatabaseSync(`${dir}/db.sqlite`, { readOnly: true });
  try {
    const err = thrown(() => storing("save the answer", () => db.exec("CREATE TABLE t (x)")));
    assert.ok(err instanceof StorageError);
    assert.equal(err.status, 503);
    assert.equal(err.code, "SQLITE_READONLY");
    assert.equal(
      err.message,
      "Storage unavailable: cannot save the answer: attempt to write a readonly database " +
        "(SQLITE_READONLY)",
    );
    assert.equal(err.transient, true, "the bus must deliver the message again");
    const response = err.getResponse();
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "5");
    // A bug passes unchanged, and so does a StorageError from a nested call.
    assert.throws(
      () => storing("x", () => db.exec("SELEC 1")),
      (e) => !(e instanceof StorageError),
    );
    const nested = thrown(() =>
      storing("outer", () => {
        throw err;
      })
    );
    assert.equal(nested, err);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
