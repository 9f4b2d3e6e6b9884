/**
 * Orchestrators with a fleet key: what they publish is signed, and what they mirror from the
 * topics must be signed with their key, so a forged command never shows up as a test, nor stops
 * one. Real encode/parse (MemoryBus); the drivers' side is tests/driver/trigger_inbox_test.ts
 * and, on real Kafka, tests/driver/signed_commands_kafka_test.ts.
 */
import assert from "node:assert/strict";
import { MemoryBus } from "../../shared/bus.ts";
import { refusalOf, signCommand } from "../../shared/command_signature.ts";
import { FleetKey } from "../../shared/fleet_key.ts";
import { parseMessage } from "../../shared/messages.ts";
import type { Leadership } from "../../orchestrator/kafka_election.ts";
import { AVALANCHE, call, createHarness } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const KEY = new FleetKey("orchestrator-test-fleet-key-0123456789");
const OTHER_KEY = new FleetKey("another-fleet-altogether-0123456789ab");
const leadership = (active: boolean): Leadership => ({
  isActive: () => active,
  active: () => Promise.resolve({ orchestrator_id: "a", url: "http://127.0.0.1:7001" }),
});

Deno.test("with a fleet key, commands go out signed and only signed ones are mirrored", async () => {
  const bus = new MemoryBus();
  const a = await createHarness({ bus, fleetKey: KEY, app: { leadership: leadership(true) } });
  const b = await createHarness({ bus, fleetKey: KEY, app: { leadership: leadership(false) } });
  try {
    await a.heartbeat("one", null, "run-1");
    assert.equal((await call(a.app, "POST", "/api/tests", AVALANCHE)).status, 201);
    assert.equal((await call(a.app, "POST", "/api/tests/t1/trigger")).status, 200);
    assert.equal((await call(a.app, "POST", "/api/end")).status, 200);
    for (const { kind, raw } of bus.log) {
      if (kind !== "test_config" && kind !== "trigger") continue;
      const parsed = parseMessage(kind, raw);
      assert.ok(parsed.ok, raw);
      assert.equal(refusalOf(kind, parsed.value, KEY), undefined, raw);
    }
    const mirrored = (await call(b.app, "GET", "/api/tests/t1")).body as Json;
    assert.equal(mirrored.state, "running");
    assert.equal(mirrored.config.signature, undefined, "the store keeps the config, unsigned");

    // Forgeries: unsigned, signed with another key, a signed config with its target changed.
    const forged = {
      test_id: "forged",
      test_type: "AVALANCHE",
      test_message_delay: 0,
      message_count_per_driver: 100,
      target_url: "http://169.254.169.254/",
    } as const;
    const genuine = JSON.parse(bus.log.find((e) => e.kind === "test_config")!.raw);
    await bus.publish("test_config", forged);
    await bus.publish("test_config", signCommand("test_config", forged, OTHER_KEY));
    await bus.publishRaw(
      "test_config",
      JSON.stringify({ ...genuine, test_id: "forged", target_url: "http://169.254.169.254/" }),
    );
    await bus.publish("trigger", { trigger: "STOP", test_id: "t1", timestamp: a.clock.t });
    for (const h of [a, b]) {
      assert.equal((await call(h.app, "GET", "/api/tests/forged")).status, 404);
      assert.equal(((await call(h.app, "GET", "/api/tests/t1")).body as Json).state, "running");
      assert.equal(h.controller.counters.commands_refused, 4);
      const health = (await call(h.app, "GET", "/healthz")).body as Json;
      assert.equal(health.counters.commands_refused, 4);
      const refusals = h.warnings.filter((l) => l.includes("refused a "));
      assert.deepEqual(refusals.map((l) => /refused a (\w+): (\w+)/.exec(l)?.slice(1).join(" ")), [
        "test_config unsigned",
        "test_config bad",
        "test_config bad",
        "trigger unsigned",
      ]);
    }
    assert.deepEqual(bus.handlerErrors, []);
  } finally {
    await b.close();
    await a.close();
  }
});
