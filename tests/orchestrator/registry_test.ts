import assert from "node:assert/strict";
import { DriverRegistry, FORGET_LOST_MS } from "../../orchestrator/registry.ts";
import type { HeartbeatMessage, RegisterMessage } from "../../shared/messages.ts";

const beat = (node_id: string, extra: Partial<HeartbeatMessage> = {}): HeartbeatMessage => ({
  node_id,
  heartbeat: "YES",
  timestamp: 0,
  ...extra,
});
const reg = (node_id: string, ip = "127.0.0.1", timestamp = 0): RegisterMessage => ({
  node_id,
  node_IP: ip,
  message_type: "DRIVER_NODE_REGISTER",
  timestamp,
  workers: 2,
});

Deno.test("registry: a driver is lost exactly after lostAfter missed intervals", () => {
  const r = new DriverRegistry({ heartbeatMs: 1000, lostAfter: 3 });
  r.register(reg("one", "127.0.0.1", 10_000), 10_000);
  const cases: [number, string][] = [[12_999, "alive"], [13_000, "lost"], [20_000, "lost"]];
  const changes = [];
  for (const [now, status] of cases) {
    changes.push(...r.sweep(now));
    assert.equal(r.get("one")?.status, status, `at ${now}`);
  }
  assert.deepEqual(changes, [{ node_id: "one", status: "lost" }]);
});

Deno.test("registry: heartbeats revive a lost driver and report the change once", () => {
  const r = new DriverRegistry({ heartbeatMs: 1000, lostAfter: 3 });
  r.heartbeat(beat("one"), 0);
  r.sweep(5000);
  assert.equal(r.get("one")?.status, "lost");
  assert.deepEqual(r.heartbeat(beat("one"), 5100), { node_id: "one", status: "alive" });
  assert.equal(r.heartbeat(beat("one"), 5200), undefined);
  assert.deepEqual(r.alive(), ["one"]);
});

Deno.test("registry: drivers already running are discovered from heartbeats alone", () => {
  const r = new DriverRegistry({ heartbeatMs: 1000, lostAfter: 3 });
  r.heartbeat(beat("two", { test_id: "t9", interval_ms: 500 }), 100);
  const two = r.get("two")!;
  assert.equal(two.node_ip, null);
  assert.equal(two.test_id, "t9");
  assert.equal(two.interval_ms, 500);
  // Announced interval 500 ms: lost after 3 × 500 ms.
  assert.deepEqual(r.sweep(1599), []);
  assert.deepEqual(r.sweep(1600), [{ node_id: "two", status: "lost" }]);
  r.register(reg("two", "10.1.2.3", 1700), 1700);
  assert.equal(r.get("two")?.node_ip, "10.1.2.3");
  assert.equal(r.get("two")?.test_id, null);
});

Deno.test("registry: list is sorted and copies; expect() adds a silent driver", () => {
  const r = new DriverRegistry({ heartbeatMs: 1000, lostAfter: 3 });
  r.heartbeat(beat("b"), 0);
  r.register(reg("a"), 0);
  r.expect("c", 0);
  r.expect("a", 2000); // already known: unchanged
  assert.deepEqual(r.list().map((d) => d.node_id), ["a", "b", "c"]);
  r.list()[0]!.status = "lost";
  assert.equal(r.get("a")?.status, "alive");
  assert.equal(r.get("a")?.last_heartbeat, 0);
  assert.deepEqual(r.sweep(3000).map((c) => c.node_id).sort(), ["a", "b", "c"]);
});

Deno.test("registry: an old heartbeat time never moves last_heartbeat back", () => {
  const r = new DriverRegistry({ heartbeatMs: 1000, lostAfter: 3 });
  r.heartbeat(beat("a"), 5000);
  r.heartbeat(beat("a"), 4000);
  assert.equal(r.get("a")?.last_heartbeat, 5000);
});

Deno.test("a replayed (old) registration gives a driver's address but does not make it alive", () => {
  const registry = new DriverRegistry({ heartbeatMs: 1000, lostAfter: 3 });
  const now = 1_000_000;
  registry.register(
    {
      node_id: "old",
      node_IP: "10.0.0.9",
      message_type: "DRIVER_NODE_REGISTER",
      // Its clock says "now": only Kafka's offsets can tell it was sent before we listened.
      timestamp: now,
    },
    now,
    true,
  );
  assert.equal(registry.get("old"), undefined);
  assert.deepEqual(registry.alive(), []);
  registry.heartbeat({ node_id: "old", heartbeat: "YES", timestamp: now + 10 }, now + 10);
  assert.equal(registry.get("old")?.node_ip, "10.0.0.9");
  assert.equal(registry.get("old")?.status, "alive");
});

Deno.test("an old registration fills in the address of a driver known from heartbeats", () => {
  const registry = new DriverRegistry({ heartbeatMs: 1000, lostAfter: 3 });
  const now = 2_000_000;
  registry.heartbeat({ node_id: "hb", heartbeat: "YES", timestamp: now }, now);
  assert.equal(registry.get("hb")?.node_ip, null);
  registry.register(
    {
      node_id: "hb",
      node_IP: "127.0.0.1",
      message_type: "DRIVER_NODE_REGISTER",
      timestamp: now - 10_000,
    },
    now + 5,
    true,
  );
  assert.equal(registry.get("hb")?.node_ip, "127.0.0.1");
});

Deno.test("registry: silence counts only from heardSince, the return of the caller's link", () => {
  // Heartbeat every 1 s, lost after 3: last heard at 10 s. The link was back at `since`.
  const cases: [string, number | undefined, number, string][] = [
    ["no link information: the usual 3 s", undefined, 13_000, "lost"],
    ["link back before the last heartbeat: no change", 9_000, 13_000, "lost"],
    ["link back at 20 s: alive until 23 s", 20_000, 22_999, "alive"],
    ["link back at 20 s: lost at 23 s", 20_000, 23_000, "lost"],
  ];
  for (const [what, since, now, status] of cases) {
    const r = new DriverRegistry({ heartbeatMs: 1000, lostAfter: 3 });
    r.heartbeat(beat("one"), 10_000);
    r.sweep(now, since);
    assert.equal(r.get("one")?.status, status, what);
  }
});

Deno.test("registry: a leaving heartbeat makes a driver left at once, not alive and never lost", () => {
  const r = new DriverRegistry({ heartbeatMs: 1000, lostAfter: 3 });
  r.heartbeat(beat("one", { instance_id: "run-a", test_id: "t1" }), 0);
  r.heartbeat(beat("two"), 0);
  const change = r.heartbeat(beat("one", { instance_id: "run-a", leaving: true }), 500);
  assert.deepEqual(change, { node_id: "one", status: "left" });
  assert.equal(r.get("one")?.status, "left");
  assert.equal(r.get("one")?.test_id, null);
  assert.deepEqual(r.alive(), ["two"]);
  // Silence after leaving is expected: sweeps never turn "left" into "lost".
  assert.deepEqual(r.sweep(10_000), [{ node_id: "two", status: "lost" }]);
  assert.equal(r.get("one")?.status, "left");
});

Deno.test("registry: a driver that left and comes back (a new run) is alive again", () => {
  const r = new DriverRegistry({ heartbeatMs: 1000, lostAfter: 3 });
  r.heartbeat(beat("one", { instance_id: "run-a", leaving: true }), 0);
  assert.equal(r.get("one")?.status, "left");
  assert.deepEqual(r.register({ ...reg("one", "10.0.0.2", 100), instance_id: "run-b" }, 100), {
    node_id: "one",
    status: "alive",
  });
  assert.deepEqual(r.alive(), ["one"]);
  assert.equal(r.get("one")?.instance_id, "run-b");
});

Deno.test("registry: a late leaving beat of an old run does not make the new run left", () => {
  const cases: [string, string | undefined, string][] = [
    ["another run's leave, while the newest run is alive: ignored", "run-old", "alive"],
    ["the newest run's own leave", "run-new", "left"],
    ["a leave without a run id (an older driver): believed", undefined, "left"],
  ];
  for (const [what, run, status] of cases) {
    const r = new DriverRegistry({ heartbeatMs: 1000, lostAfter: 3 });
    r.register({ ...reg("one"), instance_id: "run-new" }, 0);
    const leave = beat("one", { leaving: true, ...(run ? { instance_id: run } : {}) });
    r.heartbeat(leave, 100);
    assert.equal(r.get("one")?.status, status, what);
  }
});

Deno.test("registry: drivers that left are forgotten after an hour, like lost ones", () => {
  const r = new DriverRegistry({ heartbeatMs: 1000, lostAfter: 3 });
  r.heartbeat(beat("one", { leaving: true }), 0);
  r.sweep(FORGET_LOST_MS - 1);
  assert.equal(r.get("one")?.status, "left");
  r.sweep(FORGET_LOST_MS);
  assert.equal(r.get("one"), undefined);
});
