import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { BUSY_TIMEOUT_MS } from "../../orchestrator/database.ts";
import { CorruptDataError } from "../../orchestrator/errors.ts";
import { StorageError } from "../../orchestrator/storage_error.ts";
import { Store, type TestRecord } from "../../orchestrator/store.ts";
import { thrown } from "../support/thrown.ts";
import { FakeDriver } from "./fake_driver.ts";

const record = (id: string, created: number): TestRecord => ({
  test_id: id,
  created_at: created,
  triggered_at: null,
  ended_at: null,
  config: {
    test_id: id,
    test_type: "AVALANCHE",
    test_message_delay: 0,
    message_count_per_driver: 10,
    target_url: "http://127.0.0.1:8080/ping",
    connections: 1,
    timeout_ms: 1000,
    method: "GET",
  },
  lifecycle: { state: "created", drivers: {} },
});

Deno.test("store: tests, snapshots and results survive closing and reopening", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-store-" });
  const path = `${dir}/surge.sqlite`;
  try {
    const d = new FakeDriver("one", "a");
    const snap0 = d.record([1000, 2000]).report(1000);
    const snap1 = d.record([3000]).report(2000, true);
    {
      const store = new Store(path);
      const a = record("a", 1);
      store.insertTest(a);
      store.insertTest(record("b", 2));
      store.insertTest(record("c", 3));
      a.lifecycle = { state: "finished", drivers: { one: "final" } };
      a.triggered_at = 5;
      a.ended_at = 9;
      store.updateTest(a);
      store.addSnapshot(snap1, JSON.stringify(snap1), 100);
      store.addSnapshot(snap0, JSON.stringify(snap0), 101);
      store.addSnapshot(snap0, JSON.stringify(snap0), 102); // duplicate: ignored
      store.saveResults(a, { overall: { responses: 3 } }, { overall: [] });
      // A broken rule is a bug, not a storage failure: it stays the error it is (500).
      const duplicate = thrown(() => store.insertTest(record("a", 4)));
      assert.match(String(duplicate), /UNIQUE constraint failed/);
      assert.ok(!(duplicate instanceof StorageError));
      assert.equal(store.meta("instance", () => "first"), "first");
      store.close();
    }
    const store = new Store(path);
    try {
      assert.equal(store.meta("instance", () => "second"), "first");
      assert.deepEqual(store.listTests().map((t) => t.test_id), ["c", "b", "a"]);
      assert.deepEqual(store.listTests(1).map((t) => t.test_id), ["c"]);
      const a = store.getTest("a")!;
      assert.deepEqual(a.lifecycle, { state: "finished", drivers: { one: "final" } });
      assert.equal(a.triggered_at, 5);
      assert.equal(a.ended_at, 9);
      assert.deepEqual(a.config, record("a", 1).config);
      assert.deepEqual(a.results, { overall: { responses: 3 } });
      assert.deepEqual(store.snapshots("a"), [
        { message: snap0, receivedAt: 101 },
        { message: snap1, receivedAt: 100 },
      ]);
      assert.equal(store.lastReportId("a", "one"), 1);
      assert.equal(store.lastReportId("a", "two"), -1);
      assert.deepEqual(store.openTests().map((t) => t.test_id), ["b", "c"]);
      // An ended test without cached results (still draining) is open too.
      const draining = record("d", 4);
      draining.lifecycle = { state: "stopped", drivers: { one: "running" } };
      store.insertTest(draining);
      assert.deepEqual(store.openTests().map((t) => t.test_id), ["b", "c", "d"]);
      assert.equal(store.getTest("zz"), undefined);
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("store: a snapshot is kept as received and validated again when it is replayed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-store-" });
  const path = `${dir}/surge.sqlite`;
  const store = new Store(path);
  try {
    const snap = new FakeDriver("one", "a").record([1000, 2000]).report(1000);
    // As an older driver sends it: without the counters added later, with a field surge drops.
    const { dropped: _d, queued: _q, unfinished: _u, ...older } = snap;
    const text = ` ${JSON.stringify({ ...older, added_by_a_newer_driver: 1 })}\n`;
    store.insertTest(record("a", 1));
    store.addSnapshot(snap, text, 100);
    const raw = new DatabaseSync(path);
    try {
      const row = raw.prepare("SELECT message FROM snapshots").get() as { message: string };
      assert.equal(row.message, text, "stored byte for byte");
      assert.deepEqual(store.snapshots("a"), [{
        message: { ...snap, dropped: 0, queued: 0, unfinished: 0 },
        receivedAt: 100,
      }]);
      // JSON, but not a metrics message any more: an error that names the row, not a wrong sum.
      raw.prepare("UPDATE snapshots SET message = ?").run(JSON.stringify({ ...snap, errors: 7 }));
    } finally {
      raw.close();
    }
    assert.throws(
      () => store.snapshots("a"),
      (err) =>
        err instanceof CorruptDataError &&
        /Stored report 0 of driver "one" for test "a" is not a valid metrics message \(metrics: requests: must equal/
          .test(err.message),
    );
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("store: a path that cannot be opened is a clear error", () => {
  assert.throws(
    () => new Store("/nonexistent-dir-for-surge/x/surge.sqlite"),
    /Cannot open the orchestrator database at \/nonexistent-dir-for-surge/,
  );
});

Deno.test("store: a transaction stores all of its writes or none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-store-" });
  const store = new Store(`${dir}/surge.sqlite`);
  try {
    assert.throws(() =>
      store.transaction("add two tests", () => {
        store.insertTest(record("a", 1));
        store.insertTest(record("a", 2)); // fails: the first insert must go too
      }), /UNIQUE constraint failed/);
    assert.deepEqual(store.listTests(), []);
    store.transaction("add two tests", () => {
      store.insertTest(record("a", 1));
      // A nested call joins the outer transaction.
      store.transaction("add one more", () => store.insertTest(record("b", 2)));
    });
    assert.deepEqual(store.listTests().map((t) => t.test_id), ["b", "a"]);
    assert.equal(store.health().writable, true);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("store: a database locked elsewhere fails after the busy timeout with a 503 StorageError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-store-" });
  const path = `${dir}/surge.sqlite`;
  const store = new Store(path);
  const other = new DatabaseSync(path);
  try {
    store.insertTest(record("a", 1));
    other.exec("BEGIN EXCLUSIVE"); // as a backup or an sqlite3 shell might
    const started = performance.now();
    const err = thrown(() => store.insertTest(record("b", 2)));
    const waited = performance.now() - started;
    assert.ok(err instanceof StorageError);
    assert.equal(err.status, 503);
    assert.equal(err.code, "SQLITE_BUSY");
    assert.equal(
      err.message,
      'Storage unavailable: cannot insert test "b": database is locked (SQLITE_BUSY)',
    );
    // The guarantee is a wait of at least the busy timeout (SQLite sleeps in steps up to it).
    assert.ok(waited >= BUSY_TIMEOUT_MS * 0.9, `waited ${waited} ms`);
    const health = store.health();
    assert.equal(health.writable, false);
    assert.equal(health.error, err.message);
    assert.ok(health.failing_since !== null);
    // Readers are not blocked by a writer in WAL mode.
    assert.deepEqual(store.listTests().map((t) => t.test_id), ["a"]);
    // A transaction fails at its start, leaving nothing behind.
    assert.throws(
      () => store.transaction("add c", () => store.insertTest(record("c", 3))),
      /Storage unavailable: cannot add c: database is locked/,
    );
    other.exec("ROLLBACK");
    store.insertTest(record("b", 2));
    assert.deepEqual(store.listTests().map((t) => t.test_id), ["b", "a"]);
    assert.deepEqual(store.health(), { writable: true, error: null, failing_since: null });
  } finally {
    other.close();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
