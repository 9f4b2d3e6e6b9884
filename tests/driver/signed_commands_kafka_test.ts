/**
 * A driver process with a fleet key on real Kafka, commanded by a producer of this test that may
 * write to the topics but has only sometimes the key: unsigned and wrongly signed commands are
 * refused and logged, a config that reuses a test id for another config is refused, and only
 * the correctly signed test runs — the target's own count says nothing else was sent.
 *
 * kafkajs leaves internal timers behind briefly after disconnect(), so the sanitizers are off;
 * every client and the process are still closed in `finally`.
 */
import assert from "node:assert/strict";
import type { Delivered } from "../../shared/bus.ts";
import { signCommand } from "../../shared/command_signature.ts";
import { FleetKey } from "../../shared/fleet_key.ts";
import type { MetricsMessage, RegisterMessage, TestConfigInput } from "../../shared/messages.ts";
import { createTestBus } from "../support/kafka.ts";
import { eventually, ProcessGroup } from "../support/processes.ts";
import { serveTarget } from "./servers.ts";

const SECRET = "the-fleet-key-of-this-test-0123456789abcdef";
const KEY = new FleetKey(SECRET);
const WRONG_KEY = new FleetKey("a-key-the-driver-does-not-have-0123456789");

Deno.test({
  name: "a driver with a fleet key ignores and logs unsigned, forged and reused-id commands",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const target = serveTarget();
    const control = await createTestBus("signed-control");
    const metrics: MetricsMessage[] = [];
    const registered: RegisterMessage[] = [];
    const watch = await control.bus.subscribe({
      groupId: `watch-${crypto.randomUUID()}`,
      kinds: ["register", "metrics"],
      fromBeginning: true,
      onMessage: (d: Delivered) => {
        if (d.kind === "metrics") metrics.push(d.message);
        if (d.kind === "register") registered.push(d.message);
      },
    });
    const group = new ProcessGroup();
    const config = (testId: string, count: number): TestConfigInput => ({
      test_id: testId,
      test_type: "AVALANCHE",
      test_message_delay: 0,
      message_count_per_driver: count,
      target_url: `${target.url}/ping`,
      connections: 2,
    });
    const yes = (testId: string) => ({
      trigger: "YES" as const,
      test_id: testId,
      timestamp: Date.now(),
    });
    try {
      const driver = group.spawnDeno("driver", [
        ...["run", "-A", "driver/main.ts", "one", "--workers", "1", "--report-ms", "250"],
      ], {
        KAFKA_BROKERS: Deno.env.get("KAFKA_BROKERS")!,
        SURGE_TOPIC_PREFIX: control.prefix,
        SURGE_FLEET_KEY: SECRET,
      });
      await eventually("register", () => registered.some((r) => r.node_id === "one"), 60_000);
      // The line may be printed a moment after the registration is on Kafka.
      await driver.waitForOutput(/driver node running.*commands="only signed with the fleet key"/);
      const refusal = (pattern: RegExp) => driver.waitForOutput(pattern);

      // A config nobody signed, then the fleet key's own trigger for it: the config is refused,
      // so even a genuine trigger cannot run it.
      await control.bus.publish("test_config", config("forged", 40));
      await refusal(/WARN .*refused a test_config: unsigned .*test_id=forged refused_total=1/);
      await control.bus.publish("trigger", signCommand("trigger", yes("forged"), KEY));

      // A genuine config; triggers unsigned and signed with another key are refused.
      await control.bus.publish("test_config", signCommand("test_config", config("real", 50), KEY));
      await driver.waitForOutput(/test configured.*test_id=real/);
      await control.bus.publish("trigger", yes("real"));
      await refusal(/refused a trigger: unsigned .*test_id=real trigger=YES refused_total=2/);
      await control.bus.publish("trigger", signCommand("trigger", yes("real"), WRONG_KEY));
      await refusal(/refused a trigger: bad signature .*test_id=real trigger=YES refused_total=3/);
      // Properly signed, but another config under the same id: refused, the first one stands.
      await control.bus.publish("test_config", signCommand("test_config", config("real", 70), KEY));
      await refusal(/refused a test_config: its test id has another config already .*test_id=real/);
      // An unsigned END would end the driver: refused too.
      await control.bus.publish("trigger", { trigger: "END", timestamp: Date.now() });
      await refusal(/refused a trigger: unsigned .*trigger=END refused_total=5/);
      assert.equal(target.counters.requestsReceived, 0, "nothing ran on a refused command");

      // The genuine trigger runs the genuine config: 50 requests, not 40 nor 70.
      await control.bus.publish("trigger", signCommand("trigger", yes("real"), KEY));
      const final = await eventually(
        "final metrics of the signed test",
        () => metrics.find((m) => m.test_id === "real" && m.final),
        60_000,
      );
      assert.equal(final.requests, 50);
      assert.equal(final.responses, 50);
      assert.equal(target.counters.requestsReceived, 50);
      assert.ok(!metrics.some((m) => m.test_id === "forged"), "the forged test never ran");
      assert.ok(!driver.done(), "the unsigned END did not end the driver");
      assert.doesNotMatch(driver.output(), new RegExp(SECRET), "the key is never logged");
    } finally {
      await group.stopAll();
      await watch.close();
      await control.bus.close();
      await target.close();
    }
  },
});
