/**
 * A test whose stored data cannot be read (a snapshot row damaged behind the orchestrator's back):
 * it is shown as corrupt while everything else works, it is read once and not replayed again, its
 * series is an error that says why, it no longer holds its drivers, and the reports the acceptance
 * rules let in for it are kept as received.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { CorruptDataError } from "../../orchestrator/errors.ts";
import { Store } from "../../orchestrator/store.ts";
import { FakeDriver, latencies } from "./fake_driver.ts";
import { report, RUN_ONE, RUN_TWO, settledWithTwoLost, triggered } from "./two_drivers.ts";
import { avalanche, call, createHarness, ManualClock } from "./harness.ts";

/** A store that counts how often a test's snapshots are replayed. */
class CountingStore extends Store {
  replays = 0;
  override snapshots(testId: string) {
    this.replays++;
    return super.snapshots(testId);
  }
}

/** Overwrites t1's stored reports of `nodeId` through a connection of its own. */
function damage(path: string, nodeId: string): void {
  const db = new DatabaseSync(path);
  try {
    db.prepare("UPDATE snapshots SET message = ? WHERE test_id = 't1' AND node_id = ?")
      .run("{not json", nodeId);
  } finally {
    db.close();
  }
}

/** How many reports of t1 the database holds. */
function storedRows(path: string): number {
  const db = new DatabaseSync(path);
  try {
    const row = db.prepare("SELECT COUNT(*) AS n FROM snapshots WHERE test_id = 't1'").get();
    return Number((row as { n: number }).n);
  } finally {
    db.close();
  }
}

/** Runs `body` with a scratch directory for a database file, removed afterwards. */
async function withDir(body: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "surge-corrupt-" });
  try {
    await body(`${dir}/surge.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a test whose stored data cannot be read is corrupt; the rest works and a restart too", async () => {
  await withDir(async (path) => {
    const clock = new ManualClock();
    let h = await createHarness({ store: new Store(path), clock });
    await triggered(h);
    const one = new FakeDriver("one", "t1").record(latencies(12, 10, 1000, 10));
    await h.metrics(report(h, one, RUN_ONE, 1000));
    await h.controller.createTest(avalanche()); // t2, fine
    await h.close();
    damage(path, "one");
    h = await createHarness({ store: new Store(path), clock });
    try {
      const t1 = h.controller.getTest("t1");
      assert.equal(t1.state, "corrupt");
      assert.match(t1.reason ?? "", /stored data cannot be read/);
      assert.equal(h.controller.getTest("t2").state, "created");
      const list = h.controller.listTests();
      assert.deepEqual(list.map((t) => [t.test_id, t.state]), [["t2", "created"], [
        "t1",
        "corrupt",
      ]]);
      // t1 no longer occupies the drivers: t2 can run.
      await h.heartbeat("one", null, RUN_ONE);
      assert.equal((await h.controller.trigger("t2")).state, "running");
    } finally {
      await h.close();
    }
  });
});

Deno.test("a corrupt test is read once; its series says why; its reports are kept as received", async () => {
  await withDir(async (path) => {
    const clock = new ManualClock();
    let h = await createHarness({ store: new Store(path), clock });
    await triggered(h);
    const one = new FakeDriver("one", "t1").record(latencies(13, 10, 1000, 10));
    await h.metrics(report(h, one, RUN_ONE, 1000));
    await h.close();
    damage(path, "one");
    const store = new CountingStore(path);
    h = await createHarness({ store, clock });
    try {
      assert.equal(store.replays, 1, "the restart tried t1 once");
      assert.equal(h.controller.getTest("t1").state, "corrupt");
      assert.throws(
        () => h.controller.timeseries("t1"),
        (err) =>
          err instanceof CorruptDataError && err.status === 500 &&
          /report 0 of driver "one" for test "t1"/.test(err.message),
      );
      // Driver two goes on reporting: nothing can add its numbers up, but each report is kept.
      const two = new FakeDriver("two", "t1").record(latencies(14, 10, 1000, 10));
      await h.metrics(report(h, two, RUN_TWO, 1000));
      await h.metrics(report(h, two.record(latencies(15, 5, 1000, 10)), RUN_TWO, 2000, true));
      assert.equal(h.controller.counters.metrics_corrupt_test, 2);
      assert.equal(h.controller.counters.metrics_bad_histogram, 0);
      assert.equal(h.controller.counters.metrics_frozen, 0);
      assert.equal(storedRows(path), 3);
      h.controller.listTests();
      h.controller.getTest("t1");
      assert.equal(store.replays, 1, "never replayed again");
    } finally {
      await h.close();
    }
  });
});

Deno.test("a settled test found corrupt by a late report keeps that report and shows corrupt", async () => {
  await withDir(async (path) => {
    const h = await createHarness({ store: new Store(path), clock: new ManualClock() });
    try {
      const { two } = await settledWithTwoLost(h, [16, 17]);
      assert.equal(h.controller.getTest("t1").settled, true);
      damage(path, "one");
      // Within the grace a late report counts, so the settled test is read again: it cannot be.
      await h.metrics(report(h, two, RUN_TWO, 1000));
      assert.equal(h.controller.counters.metrics_corrupt_test, 1);
      assert.equal(h.controller.counters.metrics_bad_histogram, 0);
      assert.equal(storedRows(path), 2);
      const view = h.controller.getTest("t1");
      assert.equal(view.state, "corrupt");
      assert.match(view.reason ?? "", /report 0 of driver "one"/);
    } finally {
      await h.close();
    }
  });
});

Deno.test("a running test found corrupt lets its drivers go; the acceptance rules still apply", async () => {
  await withDir(async (path) => {
    const h = await createHarness({ store: new Store(path, { busyTimeoutMs: 50 }) });
    const other = new DatabaseSync(path);
    try {
      await triggered(h);
      const one = new FakeDriver("one", "t1").record(latencies(18, 10, 1000, 10));
      const two = new FakeDriver("two", "t1").record(latencies(19, 10, 1000, 10));
      await h.metrics(report(h, one, RUN_ONE, 1000));
      damage(path, "one");
      // A refused write makes the book forget t1's aggregate, so the next report reads t1 again.
      other.exec("BEGIN EXCLUSIVE");
      await h.metrics(report(h, two, RUN_TWO, 1000));
      other.exec("ROLLBACK");
      assert.equal(h.bus.handlerErrors.length, 1);
      await h.metrics(report(h, two, RUN_TWO, 1000)); // delivered again
      assert.equal(h.controller.counters.metrics_corrupt_test, 1);
      const stranger = new FakeDriver("stranger", "t1").record(latencies(20, 10, 1000, 10));
      await h.metrics(report(h, stranger, "run-x", 1000));
      assert.equal(h.controller.counters.metrics_unchosen, 1, "the rules of an open test apply");
      assert.equal(h.controller.counters.metrics_corrupt_test, 1);
      assert.equal(storedRows(path), 2);
      assert.equal(h.controller.getTest("t1").state, "corrupt");

      // Nothing can settle t1 now: a stop is saved, a lost driver changes nothing, no error.
      const stopped = await call(h.app, "POST", "/api/tests/t1/stop");
      assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
      h.clock.advance(3500);
      h.controller.tick();
      assert.equal(h.controller.counters.handler_errors, 1, "only the corrupt test itself");
      // Its drivers run the next test.
      await h.heartbeat("one", null, RUN_ONE);
      await h.heartbeat("two", null, RUN_TWO);
      await h.controller.createTest(avalanche());
      assert.equal((await h.controller.trigger("t2")).state, "running");
      // It can be deleted, though it never settled: nothing else can end it.
      assert.equal((await call(h.app, "DELETE", "/api/tests/t1")).status, 204);
      assert.equal(storedRows(path), 0);
      assert.equal((await call(h.app, "GET", "/api/tests/t1")).status, 404);
    } finally {
      other.close();
      await h.close();
    }
  });
});
