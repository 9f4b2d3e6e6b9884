/**
 * The orchestrator in-process on a database file that another connection locks, as a backup or an
 * `sqlite3` shell might: every write then fails with SQLITE_BUSY after the busy timeout (50 ms
 * here). What must hold: commands answer 503 and change nothing, a metrics report is not counted
 * until it is stored, and a settlement the store refused is stored once it can be.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { StorageError } from "../../orchestrator/storage_error.ts";
import { Store } from "../../orchestrator/store.ts";
import { FakeDriver, latencies } from "./fake_driver.ts";
import { AVALANCHE, call, createHarness, type Harness } from "./harness.ts";

/** A harness on a file store, and a second connection that can lock it. */
async function withLockableStore(fn: (h: Harness, lock: Lock) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "surge-locked-" });
  const path = `${dir}/surge.sqlite`;
  const h = await createHarness({ store: new Store(path, { busyTimeoutMs: 50 }) });
  const other = new DatabaseSync(path);
  try {
    await fn(h, {
      lock: () => other.exec("BEGIN EXCLUSIVE"),
      release: () => other.exec("ROLLBACK"),
    });
  } finally {
    other.close();
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
}

interface Lock {
  lock(): void;
  release(): void;
}

const BUSY = /^Storage unavailable: cannot .+: database is locked \(SQLITE_BUSY\)$/;

Deno.test("storage: commands answer 503 while the database is locked and leave the test as it was", async () => {
  await withLockableStore(async (h, db) => {
    await h.heartbeat("one");
    db.lock();
    const refused = await call(h.app, "POST", "/api/tests", AVALANCHE);
    assert.equal(refused.status, 503);
    assert.match(String(refused.body.error), BUSY);
    assert.match(String(refused.body.error), /insert test "t1"/);
    const listed = await call(h.app, "GET", "/api/tests");
    assert.equal(listed.status, 200, "reads go on while another connection writes");
    assert.deepEqual(listed.body.tests, []);
    let health = await call(h.app, "GET", "/healthz");
    assert.equal(health.status, 200, "the process is alive and serving");
    assert.equal(health.body.ok, false);
    const storage = health.body.storage as Record<string, unknown>;
    assert.equal(storage.writable, false);
    assert.equal(storage.error, refused.body.error);
    assert.match(String(storage.failing_since), /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    db.release();

    const created = await call(h.app, "POST", "/api/tests", AVALANCHE);
    assert.equal(created.status, 201);
    health = await call(h.app, "GET", "/healthz");
    assert.equal(health.body.ok, true);
    assert.deepEqual(health.body.storage, { writable: true, error: null, failing_since: null });
    const id = String(created.body.test_id);
    db.lock();
    const trigger = await call(h.app, "POST", `/api/tests/${id}/trigger`);
    assert.equal(trigger.status, 503);
    assert.match(String(trigger.body.error), BUSY);
    let view = await call(h.app, "GET", `/api/tests/${id}`);
    assert.equal(view.body.state, "created", "a refused trigger did not happen");
    assert.equal(view.body.triggered_at, null);
    assert.equal(h.published("trigger").length, 0, "and no driver was told");
    db.release();

    assert.equal((await call(h.app, "POST", `/api/tests/${id}/trigger`)).status, 200);
    db.lock();
    assert.equal((await call(h.app, "POST", `/api/tests/${id}/stop`)).status, 503);
    view = await call(h.app, "GET", `/api/tests/${id}`);
    assert.equal(view.body.state, "running", "a refused stop did not happen");
    assert.deepEqual(h.published("trigger").map((t) => t.trigger), ["YES"]);
    db.release();
  });
});

Deno.test("storage: a metrics report the store refuses is not counted, and is taken when delivered again", async () => {
  await withLockableStore(async (h, db) => {
    await h.heartbeat("one");
    await h.controller.createTest(
      h.controller.listTests().length ? AVALANCHE as never : {
        ...AVALANCHE,
        connections: 10,
        timeout_ms: 10_000,
        method: "GET",
      } as never,
    );
    await h.controller.trigger("t1");
    const final = new FakeDriver("one", "t1").record(latencies(1, 40, 1000, 100)).report(
      1000,
      true,
    );
    db.lock();
    await h.metrics(final);
    assert.equal(h.bus.handlerErrors.length, 1);
    const err = h.bus.handlerErrors[0];
    assert.ok(err instanceof StorageError && err.transient, "the bus must deliver it again");
    let view = h.controller.getTest("t1");
    assert.equal(view.state, "running", "the final report that was not stored settled nothing");
    assert.equal(view.overall.responses, 0, "nor counted");
    assert.equal(h.controller.counters.metrics_accepted, 0);
    db.release();

    await h.metrics(final); // what the bus does after its pause
    view = h.controller.getTest("t1");
    assert.equal(view.state, "finished");
    assert.equal(view.overall.responses, 40);
    assert.equal(h.controller.counters.metrics_accepted, 1);
    assert.equal(h.store.snapshots("t1").length, 1);
    assert.equal(h.store.getTest("t1")?.lifecycle.state, "finished");
  });
});

Deno.test("storage: a driver lost while the database is locked settles the test now; the store catches up", async () => {
  await withLockableStore(async (h, db) => {
    await h.heartbeat("one");
    await call(h.app, "POST", "/api/tests", AVALANCHE);
    await h.controller.trigger("t1");
    db.lock();
    h.clock.advance(3000); // "one" has missed 3 heartbeats
    h.controller.tick(); // must not throw: a timer calls it
    assert.equal(h.controller.getTest("t1").state, "failed");
    assert.equal(h.store.getTest("t1")?.lifecycle.state, "running", "not stored yet");
    db.release();
    h.controller.tick();
    assert.equal(h.store.getTest("t1")?.results, null, "retried after a pause, not every tick");
    h.clock.advance(5000);
    h.controller.tick();
    const stored = h.store.getTest("t1");
    assert.equal(stored?.lifecycle.state, "failed");
    assert.notEqual(stored?.results, null);
  });
});
