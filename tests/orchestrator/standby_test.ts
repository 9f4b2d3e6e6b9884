/**
 * Two orchestrators on one bus: the active one commands, the standby mirrors its tests from the
 * `test_config` and `trigger` topics and refuses commands. Real encode/parse (MemoryBus), a fake
 * leadership: which one is active is the election's business (kafka_election.ts).
 */
import assert from "node:assert/strict";
import { MemoryBus } from "../../shared/bus.ts";
import type { Leadership } from "../../orchestrator/kafka_election.ts";
import { FakeDriver, latencies } from "./fake_driver.ts";
import { AVALANCHE, call, createHarness, ManualClock } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const ACTIVE = { orchestrator_id: "orch-a", url: "http://127.0.0.1:7001" };

/** A leadership fixed by the test. */
function leadership(active: boolean, known: typeof ACTIVE | null = ACTIVE): Leadership {
  return { isActive: () => active, active: () => Promise.resolve(known ?? undefined) };
}

Deno.test("a standby mirrors the active one's tests: created, triggered, settled, stopped", async () => {
  const bus = new MemoryBus();
  const clock = new ManualClock();
  const a = await createHarness({ bus, clock, app: { leadership: leadership(true) } });
  const b = await createHarness({ bus, clock, app: { leadership: leadership(false) } });
  try {
    await a.register("one");
    await a.heartbeat("one", null, "run-1");
    await a.heartbeat("two", null, "run-2");
    assert.equal((await call(a.app, "POST", "/api/tests", AVALANCHE)).status, 201);
    const created = (await call(b.app, "GET", "/api/tests/t1")).body as Json;
    assert.equal(created.state, "created");
    assert.equal(created.config.target_url, AVALANCHE.target_url);

    assert.equal((await call(a.app, "POST", "/api/tests/t1/trigger")).status, 200);
    const [yes] = a.published("trigger");
    assert.deepEqual(yes?.instances, { one: "run-1", two: "run-2" });
    const running = (await call(b.app, "GET", "/api/tests/t1")).body as Json;
    assert.equal(running.state, "running");
    assert.deepEqual(Object.keys(running.drivers), ["one", "two"]);

    // A report from another run of a chosen driver counts on neither, as the trigger said.
    const one = new FakeDriver("one", "t1").record(latencies(1, 30, 1000, 500));
    const two = new FakeDriver("two", "t1").record(latencies(2, 20, 1000, 500));
    await a.metrics({ ...one.report(1000, true), instance_id: "run-9" });
    assert.equal(b.controller.counters.metrics_foreign_run, 1);
    await a.metrics({ ...one.report(1000, true), instance_id: "run-1" });
    await a.metrics({ ...two.report(1000, true), instance_id: "run-2" });
    for (const h of [a, b]) {
      const done = (await call(h.app, "GET", "/api/tests/t1")).body as Json;
      assert.equal(done.state, "finished");
      assert.equal(done.overall.responses, 50);
    }

    // STOP before any driver runs it: stopped on both.
    await call(a.app, "POST", "/api/tests", AVALANCHE);
    assert.equal((await call(a.app, "POST", "/api/tests/t2/stop")).status, 200);
    assert.equal(((await call(b.app, "GET", "/api/tests/t2")).body as Json).state, "stopped");
    assert.deepEqual(a.bus.handlerErrors, []);
  } finally {
    await b.close();
    await a.close();
  }
});

Deno.test("a trigger read before its test's config is applied when the config arrives", async () => {
  // Two topics: Kafka may hand a consumer the trigger first. Commands from A's bus, replayed to B
  // trigger-first, with a STOP for a second test and a YES for a test whose config never comes.
  const a = await createHarness({ app: { leadership: leadership(true) } });
  const bus = new MemoryBus();
  const b = await createHarness({ bus, app: { leadership: leadership(false) } });
  try {
    await a.heartbeat("one", null, "run-1");
    await a.heartbeat("two", null, "run-2");
    await call(a.app, "POST", "/api/tests", AVALANCHE);
    await call(a.app, "POST", "/api/tests/t1/trigger");
    await call(a.app, "POST", "/api/tests", AVALANCHE);
    await call(a.app, "POST", "/api/tests/t2/stop");
    const [config1, config2] = a.bus.log.filter((m) => m.kind === "test_config");
    const [yes, stop] = a.bus.log.filter((m) => m.kind === "trigger");
    await bus.publish("trigger", {
      trigger: "YES",
      test_id: "ghost",
      timestamp: 1,
      drivers: ["one"],
    });
    for (const m of [yes!, stop!, config2!, config1!]) await bus.publishRaw(m.kind, m.raw);

    const running = (await call(b.app, "GET", "/api/tests/t1")).body as Json;
    assert.equal(running.state, "running");
    assert.deepEqual(Object.keys(running.drivers), ["one", "two"]);
    assert.equal(((await call(b.app, "GET", "/api/tests/t2")).body as Json).state, "stopped");
    assert.equal((await call(b.app, "GET", "/api/tests/ghost")).status, 404);
    assert.deepEqual(bus.handlerErrors, []);
  } finally {
    await b.close();
    await a.close();
  }
});

Deno.test("a config that reuses a known test id, and a trigger for an unknown test, change nothing", async () => {
  const bus = new MemoryBus();
  const h = await createHarness({ bus });
  try {
    await call(h.app, "POST", "/api/tests", AVALANCHE);
    const forged = { ...JSON.parse(bus.log[0]!.raw), target_url: "http://169.254.169.254/" };
    await bus.publishRaw("test_config", JSON.stringify(forged));
    const kept = (await call(h.app, "GET", "/api/tests/t1")).body as Json;
    assert.equal(kept.config.target_url, AVALANCHE.target_url);
    assert.equal(h.controller.counters.commands_refused, 1);
    assert.match(
      h.warnings.join("\n"),
      /refused a test_config: its test id has another config already test_id=t1/,
    );
    await bus.publish("trigger", {
      trigger: "YES",
      test_id: "ghost",
      timestamp: h.clock.t,
      drivers: ["one"],
    });
    assert.equal((await call(h.app, "GET", "/api/tests/ghost")).status, 404);
    assert.equal((await call(h.app, "GET", "/api/tests")).body.tests instanceof Array, true);
    assert.deepEqual(bus.handlerErrors, []);
  } finally {
    await h.close();
  }
});

Deno.test("a standby refuses commands with 409 naming the active one, 503 while none is", async () => {
  const standby = await createHarness({ app: { leadership: leadership(false) } });
  const orphan = await createHarness({ app: { leadership: leadership(false, null) } });
  try {
    const commands: [string, string, unknown?][] = [
      ["POST", "/api/tests", AVALANCHE],
      ["POST", "/api/tests/t1/trigger"],
      ["POST", "/api/tests/t1/stop"],
      ["DELETE", "/api/tests/t1"],
      ["POST", "/api/end"],
    ];
    for (const [method, path, body] of commands) {
      const refused = await call(standby.app, method, path, body);
      assert.equal(refused.status, 409, `${method} ${path}`);
      assert.equal(
        refused.body.error,
        "This orchestrator is a standby: send commands to the active orchestrator orch-a at " +
          "http://127.0.0.1:7001",
      );
      assert.equal((await call(orphan.app, method, path, body)).status, 503, `${method} ${path}`);
    }
    assert.equal((await call(standby.app, "GET", "/api/tests")).status, 200);
    assert.equal((await call(standby.app, "GET", "/api/drivers")).status, 200);
    const health = (await call(standby.app, "GET", "/healthz")).body as Json;
    assert.equal(health.role, "standby");
    assert.deepEqual(health.active, ACTIVE);
    assert.equal(((await call(orphan.app, "GET", "/healthz")).body as Json).active, null);
    assert.deepEqual(standby.published("test_config"), []);
  } finally {
    await orphan.close();
    await standby.close();
  }
});

Deno.test("without an election the one orchestrator is active", async () => {
  const h = await createHarness();
  try {
    const health = (await call(h.app, "GET", "/healthz")).body as Json;
    assert.equal(health.role, "active");
    assert.equal(health.active, null);
  } finally {
    await h.close();
  }
});
