/** The driver registry stays bounded whatever node ids arrive on Kafka. */
import assert from "node:assert/strict";
import { DriverRegistry, FORGET_LOST_MS, MAX_DRIVERS } from "../../orchestrator/registry.ts";

const beat = (node_id: string) => ({ node_id, heartbeat: "YES" as const, timestamp: 0 });
const options = { heartbeatMs: 1000, lostAfter: 3 };

Deno.test("registry: a lost driver is listed for an hour, then forgotten", () => {
  const r = new DriverRegistry(options);
  r.register({
    node_id: "one",
    node_IP: "10.0.0.1",
    message_type: "DRIVER_NODE_REGISTER",
    timestamp: 0,
  }, 0);
  r.sweep(3000);
  assert.equal(r.get("one")?.status, "lost");
  r.sweep(FORGET_LOST_MS - 1);
  assert.equal(r.get("one")?.status, "lost", "still listed just before the hour");
  r.sweep(FORGET_LOST_MS);
  assert.equal(r.get("one"), undefined);
  // Its registration went with it: back through a heartbeat alone, its IP is unknown.
  r.heartbeat(beat("one"), FORGET_LOST_MS + 1);
  assert.equal(r.get("one")?.node_ip, null);
});

Deno.test("registry: a flood of node ids keeps every alive driver and the newest lost ones", () => {
  const r = new DriverRegistry(options);
  const flood = MAX_DRIVERS + 500;
  for (let i = 0; i < flood; i++) r.heartbeat(beat(`x${i}`), i); // x0 heard first
  r.sweep(flood); // none lost yet: alive drivers are never dropped
  assert.equal(r.list().length, flood);
  r.heartbeat(beat("real"), 10_000);
  r.sweep(10_000); // the flood is lost now, "real" is alive
  assert.equal(r.list().length, MAX_DRIVERS);
  assert.equal(r.get("real")?.status, "alive");
  assert.equal(r.get("x0"), undefined, "the lost driver silent longest went first");
  assert.equal(r.get(`x${flood - 1}`)?.status, "lost");
});
