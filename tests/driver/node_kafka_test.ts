/**
 * The driver node on real Kafka with the real engine (Web Workers, sockets) against the real
 * target: in-process, and as the `deno task driver <node_id>` process a user starts.
 *
 * kafkajs leaves internal timers and sockets behind briefly after disconnect(), so these tests
 * turn Deno's op and resource sanitizers off; every client is still disconnected in `finally`.
 */
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { taskCommand } from "../../up/plan.ts";
import { Partitioners } from "kafkajs";
import type { Delivered } from "../../shared/bus.ts";
import type { KafkaBus } from "../../shared/kafka.ts";
import { createLogger } from "../../shared/log.ts";
import {
  type HeartbeatMessage,
  isProbe,
  type MetricsMessage,
  type RegisterMessage,
  type TestConfigInput,
} from "../../shared/messages.ts";
import type { TopicNames } from "../../shared/topics.ts";
import { DriverNode } from "../../driver/node.ts";
import { createTestBus } from "../support/kafka.ts";
import { eventually, ProcessGroup } from "../support/processes.ts";
import { serveTarget } from "./servers.ts";

const kafkaTest = { sanitizeOps: false, sanitizeResources: false };

/** Collects everything drivers publish on `bus`'s topics. */
async function watch(bus: KafkaBus) {
  const seen = {
    register: [] as RegisterMessage[],
    metrics: [] as MetricsMessage[],
    beats: [] as HeartbeatMessage[],
  };
  const subscription = await bus.subscribe({
    groupId: `watch-${crypto.randomUUID()}`,
    kinds: ["register", "metrics", "heartbeat"],
    fromBeginning: true,
    onMessage: (d: Delivered) => {
      if (d.kind === "register") seen.register.push(d.message);
      else if (d.kind === "metrics") seen.metrics.push(d.message);
      else if (d.kind === "heartbeat" && !isProbe(d.message)) seen.beats.push(d.message);
    },
  });
  return { seen, subscription };
}

/** Sends raw, unvalidated text to a topic, as a broken or hostile producer would. */
async function sendRaw(
  bus: KafkaBus,
  topics: TopicNames,
  kind: "test_config" | "trigger",
  raw: string,
) {
  const producer = bus.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic: topics[kind], messages: [{ value: raw }] });
  } finally {
    await producer.disconnect();
  }
}

const config = (testId: string, url: string, over: Partial<TestConfigInput> = {}) => ({
  test_id: testId,
  test_type: "AVALANCHE" as const,
  test_message_delay: 0,
  message_count_per_driver: 3000,
  target_url: url,
  connections: 8,
  ...over,
});

Deno.test({
  name: "a driver on Kafka runs exactly message_count_per_driver requests and says so, final",
  ...kafkaTest,
  fn: async () => {
    const target = serveTarget();
    const driverSide = await createTestBus("driver-one");
    const control = await createTestBus("control", driverSide.prefix);
    const { seen, subscription } = await watch(control.bus);
    const lines: string[] = [];
    const node = new DriverNode({
      bus: driverSide.bus,
      nodeId: "one",
      nodeIp: "127.0.0.1",
      workers: 2,
      heartbeatMs: 300,
      reportMs: 200,
      logger: createLogger({ component: "driver" }, { level: "info", sink: (l) => lines.push(l) }),
    });
    try {
      // Poison first: it sits in the topics the driver replays from the beginning.
      await sendRaw(control.bus, control.topics, "test_config", "{garbage");
      await sendRaw(
        control.bus,
        control.topics,
        "test_config",
        JSON.stringify(config("poison", `${target.url}/ping`, { test_type: "TSUNAMI" })),
      );
      await sendRaw(control.bus, control.topics, "trigger", JSON.stringify({ trigger: "GO" }));
      const startedAt = Date.now();
      await node.start();
      await eventually("register", () => seen.register.some((r) => r.node_id === "one"), 30_000);

      await control.bus.publish("test_config", config("k1", `${target.url}/ping`));
      await control.bus.publish(
        "test_config",
        config("k1-not-mine", `${target.url}/ping`, {
          drivers: ["someone-else"],
        }),
      );
      // Configs and triggers travel on two topics: trigger once the config has arrived.
      await eventually("config", () => lines.some((l) => /test configured.*test_id=k1 /.test(l)));
      await control.bus.publish("trigger", {
        trigger: "YES",
        test_id: "k1",
        timestamp: Date.now(),
      });
      await control.bus.publish("trigger", {
        trigger: "YES",
        test_id: "k1-not-mine",
        timestamp: Date.now(),
      });
      const final = await eventually(
        "final metrics",
        () => seen.metrics.find((m) => m.test_id === "k1" && m.final),
        60_000,
      );
      assert.equal(final.node_id, "one");
      assert.equal(final.requests, 3000);
      assert.equal(final.responses, 3000);
      assert.equal(final.errors, 0);
      assert.deepEqual(final.status_codes, { "200": 3000 });
      assert.ok(final.metrics.min_latency <= final.metrics.median_latency);
      assert.ok(final.metrics.median_latency <= final.metrics.max_latency);
      assert.equal(target.counters.responsesSent, 3000);
      const ids = seen.metrics.filter((m) => m.test_id === "k1").map((m) => m.report_id);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      assert.equal(ids.at(-1), final.report_id);
      assert.ok(!seen.metrics.some((m) => m.test_id === "k1-not-mine"));
      // Heartbeats: busy with k1 once it started, idle again after it, and one every 300 ms.
      const beats = seen.beats.filter((b) => b.node_id === "one");
      assert.ok(beats.some((b) => b.test_id === "k1"), "a busy heartbeat names the test");
      const idleAfter = await eventually(
        "idle heartbeat",
        () => seen.beats.find((b) => b.test_id === null && b.timestamp >= final.timestamp),
      );
      const span = idleAfter.timestamp - startedAt;
      const sent = seen.beats.filter((b) => b.timestamp <= idleAfter.timestamp).length;
      assert.ok(sent >= Math.floor(span / 300) - 1, `${sent} beats in ${span} ms`);
      assert.equal(driverSide.bus.invalid.test_config, 2);
      assert.equal(driverSide.bus.invalid.trigger, 1);
    } finally {
      await node.close();
      await subscription.close();
      await control.bus.close();
      await driverSide.bus.close();
      await target.close();
    }
  },
});

Deno.test({
  name: "`deno task driver <node_id>` registers, runs a Tsunami test, and exits cleanly on END",
  ...kafkaTest,
  fn: async () => {
    const target = serveTarget();
    const control = await createTestBus("control");
    const { seen, subscription } = await watch(control.bus);
    const group = new ProcessGroup();
    try {
      // Run as `deno task driver two` would: deno.json's own command line and permissions.
      const driver = group.spawnDeno("driver", [
        ...taskCommand(denoJson.tasks, "driver", Deno.execPath()).args,
        "two",
        "--workers",
        "1",
        "--report-ms",
        "250",
      ], { KAFKA_BROKERS: Deno.env.get("KAFKA_BROKERS")!, SURGE_TOPIC_PREFIX: control.prefix });
      await eventually("register", () => seen.register.some((r) => r.node_id === "two"), 60_000);
      await control.bus.publish(
        "test_config",
        config("ts1", `${target.url}/ping`, {
          test_type: "TSUNAMI",
          test_message_delay: 5,
          message_count_per_driver: 100,
          connections: 2,
        }),
      );
      await driver.waitForOutput(/test configured.*test_id=ts1/);
      await control.bus.publish("trigger", {
        trigger: "YES",
        test_id: "ts1",
        timestamp: Date.now(),
      });
      const final = await eventually(
        "final metrics",
        () => seen.metrics.find((m) => m.test_id === "ts1" && m.final),
        60_000,
      );
      assert.equal(final.requests, 100);
      assert.equal(final.responses, 100);
      // 100 slots 5 ms apart: the test takes ~0.5 s, not less.
      assert.ok(final.elapsed_ms >= 495 && final.elapsed_ms < 1500, `${final.elapsed_ms} ms`);
      await control.bus.publish("trigger", { trigger: "END", timestamp: Date.now() });
      const status = await Promise.race([
        driver.status,
        new Promise<null>((r) => setTimeout(() => r(null), 30_000)),
      ]);
      assert.ok(status !== null, `driver did not exit on END:\n${driver.output()}`);
      assert.equal(status.code, 0, driver.output());
    } finally {
      await group.stopAll();
      await subscription.close();
      await control.bus.close();
      await target.close();
    }
  },
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test({
    name:
      `a driver process stopped with ${signal} mid-test publishes its final metrics and exits 0`,
    ...kafkaTest,
    fn: async () => {
      const target = serveTarget();
      const control = await createTestBus("control");
      const { seen, subscription } = await watch(control.bus);
      const group = new ProcessGroup();
      const nodeId = `sig-${signal.toLowerCase()}`;
      try {
        const driver = group.spawnDeno("driver", [
          ...taskCommand(denoJson.tasks, "driver", Deno.execPath()).args,
          nodeId,
          "--workers",
          "1",
        ], { KAFKA_BROKERS: Deno.env.get("KAFKA_BROKERS")!, SURGE_TOPIC_PREFIX: control.prefix });
        await eventually("register", () => seen.register.some((r) => r.node_id === nodeId), 60_000);
        // 50 requests/s for up to 60 s: still running when the signal comes.
        await control.bus.publish(
          "test_config",
          config("long", `${target.url}/ping`, {
            target_throughput: 50,
            message_count_per_driver: 0,
            duration_s: 60,
            connections: 2,
          }),
        );
        await driver.waitForOutput(/test configured.*test_id=long/);
        await control.bus.publish("trigger", {
          trigger: "YES",
          test_id: "long",
          timestamp: Date.now(),
        });
        await eventually(
          "traffic",
          () => seen.metrics.some((m) => m.test_id === "long" && m.responses > 0),
          60_000,
        );
        driver.kill(signal);
        const status = await Promise.race([
          driver.status,
          new Promise<null>((r) => setTimeout(() => r(null), 30_000)),
        ]);
        assert.ok(status !== null, `driver did not exit on ${signal}:\n${driver.output()}`);
        assert.equal(status.code, 0, driver.output());
        const final = await eventually(
          "final metrics",
          () => seen.metrics.find((m) => m.test_id === "long" && m.final),
          30_000,
        );
        // Every request it sent was answered and counted; the target agrees.
        assert.equal(final.requests, final.responses + final.errors);
        assert.equal(final.unfinished, 0);
        assert.equal(target.counters.requestsReceived, final.requests);
        assert.ok(final.elapsed_ms < 60_000, `stopped early: ${final.elapsed_ms} ms`);
      } finally {
        await group.stopAll();
        await subscription.close();
        await control.bus.close();
        await target.close();
      }
    },
  });
}
