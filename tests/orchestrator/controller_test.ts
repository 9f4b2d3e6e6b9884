import assert from "node:assert/strict";
import { MemoryBus } from "../../shared/bus.ts";
import type { InputOf } from "../../shared/messages.ts";
import { TOPIC_KINDS, type TopicKind } from "../../shared/topics.ts";
import { Store } from "../../orchestrator/store.ts";
import { FakeDriver, latencies } from "./fake_driver.ts";
import { AVALANCHE, avalanche, call, createHarness, ManualClock } from "./harness.ts";

Deno.test("controller: a driver lost mid-test keeps its numbers, marked lost; the test finishes", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one");
    await h.heartbeat("two");
    await h.controller.createTest(avalanche());
    await h.controller.trigger("t1");
    const one = new FakeDriver("one", "t1").record(latencies(1, 50, 1000, 100));
    const two = new FakeDriver("two", "t1").record(latencies(2, 20, 1000, 100));
    await h.metrics(two.report(1000));
    h.clock.advance(1000);
    await h.heartbeat("one");
    h.clock.advance(1000);
    await h.heartbeat("one");
    h.clock.advance(1100); // "two" last heard 3.1 s ago
    h.controller.tick();
    let view = h.controller.getTest("t1");
    assert.equal(view.state, "running");
    assert.equal(view.drivers.two?.status, "lost");
    assert.equal(h.controller.registry.get("two")?.status, "lost");
    await h.metrics(one.report(3000, true));
    view = h.controller.getTest("t1");
    assert.equal(view.state, "finished");
    assert.equal(view.reason, "1 of 2 drivers lost");
    assert.equal(view.drivers.two?.responses, 20);
    assert.equal(view.overall.responses, 70);
  } finally {
    await h.close();
  }
});

Deno.test("controller: every driver lost without a final report fails the test", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one");
    await h.controller.createTest(avalanche());
    await h.controller.trigger("t1");
    h.clock.advance(3000);
    h.controller.tick();
    const view = h.controller.getTest("t1");
    assert.equal(view.state, "failed");
    assert.match(view.reason ?? "", /lost/);
  } finally {
    await h.close();
  }
});

Deno.test("controller: a lost driver that heartbeats again is counted on again", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one");
    await h.heartbeat("two");
    await h.controller.createTest(avalanche());
    await h.controller.trigger("t1");
    h.clock.advance(2000);
    await h.heartbeat("two");
    h.clock.advance(1000);
    h.controller.tick();
    assert.equal(h.controller.getTest("t1").drivers.one?.status, "lost");
    await h.heartbeat("one", "t1");
    assert.equal(h.controller.getTest("t1").drivers.one?.status, "running");
    assert.equal(h.controller.getTest("t1").state, "running");
  } finally {
    await h.close();
  }
});

Deno.test("controller: stop publishes STOP; the next trigger waits for the final metrics", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one");
    await h.controller.createTest(avalanche());
    await h.controller.createTest(avalanche());
    await h.controller.trigger("t1");
    const stopped = await h.controller.stop("t1");
    assert.equal(stopped.state, "stopped");
    assert.equal(stopped.settled, false);
    assert.equal(h.published("trigger").at(-1)?.trigger, "STOP");
    await assert.rejects(h.controller.trigger("t2"), /still sending their final metrics/);
    await h.metrics(new FakeDriver("one", "t1").record([1000]).report(500, true));
    assert.equal(h.controller.getTest("t1").settled, true);
    assert.equal((await h.controller.trigger("t2")).state, "running");
  } finally {
    await h.close();
  }
});

Deno.test("controller: a stopped test stops waiting for final metrics after the drain timeout", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one");
    await h.controller.createTest(avalanche());
    await h.controller.trigger("t1");
    await h.controller.stop("t1");
    h.clock.advance(2000);
    await h.heartbeat("one");
    h.controller.tick();
    assert.equal(h.controller.getTest("t1").settled, false);
    h.clock.advance(3100);
    await h.heartbeat("one");
    h.controller.tick();
    const view = h.controller.getTest("t1");
    assert.equal(view.settled, true);
    assert.equal(view.drivers.one?.status, "lost");
  } finally {
    await h.close();
  }
});

Deno.test("controller: drivers listed in the config must be alive; others are not triggered", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one");
    await h.heartbeat("two");
    await h.controller.createTest(avalanche({ drivers: ["two", "nine"] }));
    await assert.rejects(h.controller.trigger("t1"), /not alive: nine \(never seen\)/);
    await h.controller.createTest(avalanche({ drivers: ["two"] }));
    const view = await h.controller.trigger("t2");
    assert.deepEqual(Object.keys(view.drivers), ["two"]);
    assert.deepEqual(h.published("trigger").at(-1)?.drivers, ["two"]);
  } finally {
    await h.close();
  }
});

Deno.test("controller: poison messages on every topic are skipped without disturbing it", async () => {
  const h = await createHarness();
  try {
    const poison = ["", "not json", "{}", "[]", "null", '{"node_id":"x"}', "\u0000\u0001"];
    for (const kind of TOPIC_KINDS) {
      for (const raw of poison) await h.bus.publishRaw(kind, raw);
    }
    const bad = new FakeDriver("one", "t1").record([1000]).report(1000);
    await h.bus.publishRaw("metrics", JSON.stringify({ ...bad, histogram: "AAAA" }));
    assert.deepEqual(h.bus.handlerErrors, []);
    assert.ok(h.bus.invalid.metrics >= poison.length);
    // Metrics for a test it never created are counted and ignored.
    await h.metrics(new FakeDriver("one", "zz").record([1000]).report(1000));
    assert.equal(h.controller.counters.metrics_unknown_test, 1);
    await h.heartbeat("one");
    await h.controller.createTest(avalanche());
    await h.controller.trigger("t1");
    await h.metrics(new FakeDriver("one", "t1").record([1000, 2000]).report(1000, true));
    assert.equal(h.controller.getTest("t1").state, "finished");
    assert.equal(h.controller.getTest("t1").overall.responses, 2);
  } finally {
    await h.close();
  }
});

Deno.test("controller: after a restart a running test resumes and completes from new metrics", async () => {
  const dir = await Deno.makeTempDir({ prefix: "surge-orch-" });
  const path = `${dir}/surge.sqlite`;
  const clock = new ManualClock();
  const bus = new MemoryBus();
  const one = new FakeDriver("one", "t1");
  const two = new FakeDriver("two", "t1");
  try {
    const first = await createHarness({ store: new Store(path), bus, clock });
    await first.heartbeat("one");
    await first.heartbeat("two");
    await first.controller.createTest(avalanche());
    await first.controller.trigger("t1");
    await first.metrics(one.record(latencies(1, 30, 1000, 100)).report(1000));
    await first.metrics(two.record(latencies(2, 10, 1000, 100)).report(1000));
    await first.close();

    // Before Kafka is reached (not started), reads already show the running test as it was.
    const early = await createHarness({ store: new Store(path), clock, start: false });
    try {
      early.controller.recover();
      assert.equal(early.controller.listTests()[0]?.overall.responses, 40);
      assert.equal(early.controller.getTest("t1").overall.responses, 40);
    } finally {
      await early.close();
    }

    const second = await createHarness({ store: new Store(path), bus: new MemoryBus(), clock });
    try {
      const resumed = second.controller.getTest("t1");
      assert.equal(resumed.state, "running");
      assert.equal(resumed.overall.responses, 40);
      assert.equal(second.controller.registry.get("two")?.status, "alive", "expected driver");
      // "one" finishes normally; "two" never comes back.
      await second.metrics(one.record(latencies(3, 5, 1000, 100)).report(2000, true));
      clock.advance(3000);
      second.controller.tick();
      const done = second.controller.getTest("t1");
      assert.equal(done.state, "finished");
      assert.equal(done.drivers.one?.status, "final");
      assert.equal(done.drivers.two?.status, "lost");
      assert.equal(done.overall.responses, 45);
      assert.deepEqual(
        second.controller.timeseries("t1").overall.map((p) => p.responses),
        [40, 5],
      );
    } finally {
      await second.close();
    }
    const third = await createHarness({ store: new Store(path), bus: new MemoryBus(), clock });
    try {
      const stored = third.controller.getTest("t1");
      assert.equal(stored.state, "finished");
      assert.equal(stored.overall.responses, 45);
      assert.equal(third.controller.listTests()[0]?.overall.responses, 45);
    } finally {
      await third.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A MemoryBus whose trigger topic can be made to fail, as a broker outage would. */
class FlakyBus extends MemoryBus {
  failTrigger = false;
  failConfig = false;
  override publish<K extends TopicKind>(kind: K, message: InputOf[K]): Promise<void> {
    if (this.failTrigger && kind === "trigger") return Promise.reject(new Error("broker down"));
    if (this.failConfig && kind === "test_config") {
      return Promise.reject(new Error("broker down"));
    }
    return super.publish(kind, message);
  }
}

Deno.test("controller: a test whose config cannot reach Kafka is a 503 and leaves no test", async () => {
  const bus = new FlakyBus();
  const h = await createHarness({ bus });
  try {
    bus.failConfig = true;
    const refused = await call(h.app, "POST", "/api/tests", AVALANCHE);
    assert.equal(refused.status, 503);
    assert.match(refused.body.error as string, /Cannot create test "t1": publishing to Kafka/);
    assert.deepEqual(h.controller.listTests(), []);
    assert.equal(h.store.getTest("t1"), undefined);
    bus.failConfig = false;
    assert.equal((await call(h.app, "POST", "/api/tests", AVALANCHE)).status, 201);
    assert.deepEqual(h.controller.listTests().map((t) => t.test_id), ["t2"]);
  } finally {
    await h.close();
  }
});

Deno.test("controller: a trigger or stop that cannot reach Kafka is a 503 and changes nothing", async () => {
  const bus = new FlakyBus();
  const h = await createHarness({ bus });
  try {
    await h.heartbeat("one");
    await h.controller.createTest(avalanche());
    bus.failTrigger = true;
    const refused = await call(h.app, "POST", "/api/tests/t1/trigger");
    assert.equal(refused.status, 503);
    assert.match(
      refused.body.error as string,
      /Cannot trigger test "t1": publishing to Kafka failed \(broker down\)/,
    );
    assert.equal(h.controller.getTest("t1").state, "created");
    assert.equal(h.store.getTest("t1")?.lifecycle.state, "created");
    bus.failTrigger = false;
    await h.controller.trigger("t1");
    bus.failTrigger = true;
    assert.equal((await call(h.app, "POST", "/api/tests/t1/stop")).status, 503);
    assert.equal(h.controller.getTest("t1").state, "running");
    assert.equal(h.store.getTest("t1")?.lifecycle.state, "running");
  } finally {
    await h.close();
  }
});
