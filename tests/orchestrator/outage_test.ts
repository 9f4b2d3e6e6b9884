/**
 * The orchestrator while it cannot hear Kafka (MemoryBus.setLink): nobody is declared lost, no
 * stop drain times out, /healthz says so, commands answer 503 at once; after the link returns,
 * every window counts from that return.
 */
import assert from "node:assert/strict";
import { FakeDriver } from "./fake_driver.ts";
import { avalanche, call, createHarness } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

Deno.test("outage: no driver is lost while Kafka is unreachable, nor until 3 intervals + 2 s after it returns", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one");
    await h.heartbeat("two");
    await h.controller.createTest(avalanche());
    await h.controller.trigger("t1");
    const heard = h.clock.t;
    h.clock.advance(500);
    h.bus.setLink(false, heard);
    for (let i = 0; i < 100; i++) { // 10 s without Kafka, swept every 100 ms
      h.clock.advance(100);
      h.controller.tick();
    }
    assert.deepEqual(h.controller.registry.alive(), ["one", "two"]);
    const back = h.clock.t;
    h.bus.setLink(true, back);
    // Lost at the return + 2 s (a driver's client may need one more retry wait to see the
    // broker) + 3 heartbeat intervals.
    h.clock.advance(2500);
    await h.heartbeat("two"); // "one" stays silent
    h.clock.advance(2499);
    h.controller.tick();
    assert.deepEqual(h.controller.registry.alive(), ["one", "two"], "within 5 s of the return");
    h.clock.advance(1);
    h.controller.tick();
    assert.deepEqual(h.controller.registry.alive(), ["two"], "5 s after the return");
    assert.equal(h.controller.getTest("t1").drivers.one?.status, "lost");
    assert.equal(h.controller.getTest("t1").state, "running");
    assert.equal(back + 5000, h.clock.t);
  } finally {
    await h.close();
  }
});

Deno.test("outage: a stopped test's drain waits while Kafka is away and counts from its return + 2 s", async () => {
  const h = await createHarness(); // drain timeout 5 s
  try {
    await h.heartbeat("one");
    await h.controller.createTest(avalanche());
    await h.controller.trigger("t1");
    await h.controller.stop("t1");
    h.bus.setLink(false, h.clock.t);
    h.clock.advance(8000);
    h.controller.tick();
    h.bus.setLink(true, h.clock.t);
    // The driver is still finishing t1 (its in-flight requests): its heartbeats say so.
    await h.heartbeat("one", "t1");
    h.clock.advance(2000);
    await h.heartbeat("one", "t1");
    h.clock.advance(4900);
    await h.heartbeat("one", "t1");
    h.controller.tick();
    assert.equal(h.controller.getTest("t1").settled, false, "6.9 s after the return");
    await h.metrics(new FakeDriver("one", "t1").record([1000]).report(500, true));
    const view = h.controller.getTest("t1");
    assert.equal(view.settled, true);
    assert.equal(view.drivers.one?.status, "final");
  } finally {
    await h.close();
  }
});

Deno.test("outage: /healthz answers 503 ok:false with since when; commands 503 at once", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one");
    await h.controller.createTest(avalanche());
    const lastHeard = h.clock.t - 1500;
    h.bus.setLink(false, lastHeard);
    const health = await call(h.app, "GET", "/healthz");
    assert.equal(health.status, 503);
    assert.equal(health.body.ok, false);
    assert.deepEqual(health.body.kafka, {
      connected: false,
      since: new Date(lastHeard).toISOString(),
      for_ms: 1500,
    });
    const published = h.bus.log.length;
    for (const path of ["/api/tests/t1/trigger", "/api/tests", "/api/end"]) {
      const res = await call(h.app, "POST", path, path === "/api/tests" ? avalanche() : undefined);
      assert.equal(res.status, 503, path);
      assert.match(String(res.body.error), /Kafka is unreachable \(last heard .*Z\)/);
    }
    assert.equal(h.bus.log.length, published, "nothing was published");
    assert.equal(h.controller.getTest("t1").state, "created");
    assert.equal((await call(h.app, "GET", "/api/drivers")).status, 200, "reads still work");
    h.bus.setLink(true, h.clock.t);
    const back = await call(h.app, "GET", "/healthz");
    assert.equal(back.status, 200);
    assert.equal((back.body as Json).kafka.connected, true);
    assert.equal((await call(h.app, "POST", "/api/tests/t1/trigger")).status, 200);
  } finally {
    await h.close();
  }
});

Deno.test("outage: before the link is seen down, a silence counts only up to the consumers' last answer", async () => {
  const h = await createHarness();
  try {
    await h.heartbeat("one");
    const lastAnswer = h.clock.t + 2000; // the broker died then; not yet noticed
    h.clock.advance(4000); // "one"'s deadline (+3 s) is past, but after the last answer
    h.bus.setLink(true, 0, lastAnswer);
    h.controller.tick();
    assert.deepEqual(h.controller.registry.alive(), ["one"]);
    h.bus.setLink(true, 0, lastAnswer + 1000); // the consumers did hear the broker at +3 s
    h.controller.tick();
    assert.deepEqual(h.controller.registry.alive(), [], "silent while we listened: lost");
  } finally {
    await h.close();
  }
});
