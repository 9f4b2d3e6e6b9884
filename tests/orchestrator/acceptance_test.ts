/**
 * Which metrics count, and how drivers that can no longer finish are found: only the drivers and
 * runs a test was triggered on, within its window; restarts and idle drivers are lost within
 * seconds; a settled test takes late reports for a grace period, then is frozen. A test whose
 * stored data cannot be read: corrupt_data_test.ts.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { IDLE_GRACE_MS, START_GRACE_MS } from "../../orchestrator/driver_watch.ts";
import { Store } from "../../orchestrator/store.ts";
import { SETTLED_GRACE_MS } from "../../orchestrator/metrics_acceptance.ts";
import { FakeDriver, latencies } from "./fake_driver.ts";
import { report, RUN_ONE, RUN_TWO, settledWithTwoLost, triggered } from "./two_drivers.ts";
import { avalanche, createHarness, ManualClock } from "./harness.ts";

Deno.test("metrics from a driver the test was not triggered on leave the result unchanged", async () => {
  const h = await createHarness();
  try {
    await triggered(h);
    const one = new FakeDriver("one", "t1").record(latencies(1, 40, 1000, 100));
    await h.metrics(report(h, one, RUN_ONE, 1000));
    const before = h.controller.getTest("t1").overall;
    const stranger = new FakeDriver("stranger", "t1").record(latencies(2, 500, 900_000, 10));
    await h.metrics(report(h, stranger, "run-x", 1000, true));
    const after = h.controller.getTest("t1");
    assert.deepEqual(after.overall, before);
    assert.equal(after.drivers.stranger, undefined);
    assert.equal(h.controller.counters.metrics_unchosen, 1);
  } finally {
    await h.close();
  }
});

Deno.test("a chosen driver's other run, or an elapsed time beyond the window, does not count", async () => {
  const h = await createHarness();
  try {
    await triggered(h);
    const impostor = new FakeDriver("one", "t1").record(latencies(3, 10, 1000, 10));
    await h.metrics(report(h, impostor, "run-one-b", 1000));
    // duration 10 s + timeout 10 s + 60 s slack: 90 s is beyond any honest report.
    const late = new FakeDriver("two", "t1").record(latencies(4, 10, 1000, 10));
    await h.metrics(report(h, late, RUN_TWO, 90_000));
    const view = h.controller.getTest("t1");
    assert.equal(view.overall.responses, 0);
    assert.equal(h.controller.counters.metrics_foreign_run, 1);
    assert.equal(h.controller.counters.metrics_out_of_window, 1);
  } finally {
    await h.close();
  }
});

Deno.test("a driver restarted under the same name is lost for the test at its first heartbeat", async () => {
  const h = await createHarness();
  try {
    await triggered(h);
    h.clock.advance(500);
    await h.heartbeat("two", null, "run-two-b"); // a new process, idle
    const view = h.controller.getTest("t1");
    assert.equal(view.drivers.two?.status, "lost");
    assert.match(view.drivers.two?.lost_reason ?? "", /^restarted: run run-two-b is not run-two-a/);
    assert.equal(view.drivers.one?.status, "running");
    // The other driver finishes: the test settles with the restarted one lost.
    const one = new FakeDriver("one", "t1").record(latencies(5, 30, 1000, 10));
    await h.metrics(report(h, one, RUN_ONE, 1000, true));
    const done = h.controller.getTest("t1");
    assert.equal(done.state, "finished");
    assert.equal(done.reason, "1 of 2 drivers lost");
    // The new run is alive for the next test.
    assert.equal(h.controller.registry.get("two")?.status, "alive");
  } finally {
    await h.close();
  }
});

Deno.test("a driver that heartbeats idle is lost after the grace unless its final report comes", async () => {
  const h = await createHarness();
  try {
    await triggered(h);
    const one = new FakeDriver("one", "t1").record(latencies(6, 30, 1000, 10));
    // Both go idle (heartbeating every second); one's final report arrives 1 s later, two's
    // never does.
    await h.heartbeat("one", null, RUN_ONE);
    await h.heartbeat("two", null, RUN_TWO);
    h.clock.advance(1000);
    await h.metrics(report(h, one, RUN_ONE, 1000, true));
    await h.heartbeat("two", null, RUN_TWO);
    h.clock.advance(1000);
    await h.heartbeat("two", null, RUN_TWO);
    h.clock.advance(IDLE_GRACE_MS - 2001);
    h.controller.tick();
    assert.equal(h.controller.getTest("t1").drivers.two?.status, "running");
    h.clock.advance(1);
    h.controller.tick();
    const view = h.controller.getTest("t1");
    assert.equal(view.drivers.one?.status, "final");
    assert.equal(view.drivers.two?.status, "lost");
    assert.equal(view.drivers.two?.lost_reason, "went idle without sending its final report");
    assert.equal(view.state, "finished");
    assert.equal(view.settled, true);
  } finally {
    await h.close();
  }
});

Deno.test("a busy heartbeat clears the idle clock: idle beats before the trigger arrives are fine", async () => {
  const h = await createHarness();
  try {
    await triggered(h);
    await h.heartbeat("one", null, RUN_ONE); // sent before the driver saw the trigger
    h.clock.advance(500);
    await h.heartbeat("one", "t1", RUN_ONE);
    await h.heartbeat("two", "t1", RUN_TWO);
    h.clock.advance(IDLE_GRACE_MS * 2);
    await h.heartbeat("one", "t1", RUN_ONE);
    await h.heartbeat("two", "t1", RUN_TWO);
    h.controller.tick();
    const view = h.controller.getTest("t1");
    assert.equal(view.drivers.one?.status, "running");
    assert.equal(view.drivers.two?.status, "running");
  } finally {
    await h.close();
  }
});

Deno.test("a settled test takes a late final report within the grace, then its result is frozen", async () => {
  const h = await createHarness();
  try {
    const { two } = await settledWithTwoLost(h, [7, 8]);
    assert.equal(h.controller.getTest("t1").settled, true);
    await h.metrics(report(h, two, RUN_TWO, 1000)); // late but within the grace: counts
    assert.equal(h.controller.getTest("t1").drivers.two?.responses, 20);
    h.clock.advance(SETTLED_GRACE_MS + 1);
    await h.metrics(report(h, two.record(latencies(9, 5, 1000, 10)), RUN_TWO, 2000, true));
    assert.equal(h.controller.getTest("t1").drivers.two?.responses, 20, "frozen");
    assert.equal(h.controller.counters.metrics_frozen, 1);
  } finally {
    await h.close();
  }
});

Deno.test("a report_id jump or a histogram that disagrees with the counts is refused", async () => {
  const h = await createHarness();
  try {
    await triggered(h);
    const one = new FakeDriver("one", "t1").record(latencies(10, 10, 1000, 10));
    await h.metrics(report(h, one, RUN_ONE, 1000));
    await h.metrics({ ...report(h, one, RUN_ONE, 1500), report_id: 5_000 });
    const liar = new FakeDriver("two", "t1").record(latencies(11, 10, 1000, 10));
    await h.metrics({
      ...report(h, liar, RUN_TWO, 1000),
      responses: 9,
      requests: 9,
      status_codes: { "200": 9 },
    });
    const view = h.controller.getTest("t1");
    assert.equal(view.drivers.one?.report_id, 0, "the first report stands");
    assert.equal(view.drivers.two?.report_id, null);
    assert.equal(h.controller.counters.metrics_bad_histogram, 2);
  } finally {
    await h.close();
  }
});

Deno.test("a report is stored as it arrived, and a restart replays it to the same view", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-as-received-" });
  const path = `${dir}/surge.db`;
  const clock = new ManualClock();
  try {
    let h = await createHarness({ store: new Store(path), clock });
    await triggered(h);
    const one = new FakeDriver("one", "t1").record(latencies(21, 40, 1000, 100));
    // As a driver of another version might send it: no `queued`, a field this one does not know.
    const { queued: _, ...sent } = report(h, one, RUN_ONE, 1000);
    const text = JSON.stringify({ ...sent, from_a_newer_driver: [1, 2] }, null, 1);
    await h.bus.publishRaw("metrics", text);
    const live = h.controller.getTest("t1");
    assert.equal(live.overall.responses, 40);
    await h.close();
    const db = new DatabaseSync(path);
    const rows = db.prepare("SELECT message FROM snapshots").all() as { message: string }[];
    db.close();
    assert.deepEqual(rows.map((r) => r.message), [text]);
    h = await createHarness({ store: new Store(path), clock });
    try {
      const replayed = h.controller.getTest("t1");
      assert.deepEqual(replayed.overall, live.overall);
      assert.deepEqual(replayed.drivers, live.drivers);
    } finally {
      await h.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a driver that never starts the test gets 15 s (its trigger consumer may be rejoining)", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one", null, RUN_ONE);
    await h.controller.createTest(avalanche());
    await h.controller.trigger("t1");
    // Idle beats every second, never busy with t1.
    for (let t = 0; t < START_GRACE_MS; t += 1000) {
      await h.heartbeat("one", null, RUN_ONE);
      h.clock.advance(1000);
      h.controller.tick();
      if (t + 1000 < START_GRACE_MS) {
        assert.equal(h.controller.getTest("t1").drivers.one?.status, "running", `${t + 1000} ms`);
      }
    }
    const view = h.controller.getTest("t1");
    assert.equal(view.drivers.one?.status, "lost");
    assert.equal(view.drivers.one?.lost_reason, "never started the test");
    assert.equal(view.state, "failed");
  } finally {
    await h.close();
  }
});
