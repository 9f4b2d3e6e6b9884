/**
 * The controller on a real Kafka broker: a test producer plays the driver's side of the protocol
 * (register, heartbeat, metrics) and watches what the orchestrator publishes.
 */
import assert from "node:assert/strict";
import { pollUntil } from "../../shared/async.ts";
import type { Delivered } from "../../shared/bus.ts";
import { createLogger } from "../../shared/log.ts";
import { TOPIC_KINDS } from "../../shared/topics.ts";
import { createOrchestratorApp } from "../../orchestrator/app.ts";
import { Controller } from "../../orchestrator/controller.ts";
import { Store } from "../../orchestrator/store.ts";
import { createTestBus } from "../support/kafka.ts";
import { FakeDriver, latencies } from "./fake_driver.ts";
import { AVALANCHE, call, HARNESS_ACCESS } from "./harness.ts";

const until = <T>(what: string, probe: () => T) =>
  pollUntil(probe, { what, timeoutMs: 15_000, intervalMs: 20 });

Deno.test({
  name:
    "controller on Kafka: sees drivers and metrics, publishes config and triggers, shrugs off poison",
  // kafkajs keeps internal timers alive after disconnect; every client is closed below.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const orch = await createTestBus("orch-it");
    const driverSide = await createTestBus("orch-it-driver", orch.prefix);
    const store = new Store(":memory:");
    const controller = new Controller({
      bus: orch.bus,
      store,
      logger: createLogger({}, { level: "error" }),
      options: {
        heartbeatMs: 1000,
        lostAfter: 3,
        metricsGroupId: `orch-it-metrics-${crypto.randomUUID()}`,
        liveGroupId: `orch-it-live-${crypto.randomUUID()}`,
        sweepMs: 100,
      },
    });
    const app = createOrchestratorApp({
      controller,
      logger: createLogger({}, { level: "error" }),
      invalid: orch.bus.invalid,
      access: HARNESS_ACCESS,
    });
    const seen: Delivered[] = [];
    try {
      await controller.start();
      const sub = await driverSide.bus.subscribe({
        groupId: `orch-it-watch-${crypto.randomUUID()}`,
        kinds: ["test_config", "trigger"],
        fromBeginning: true,
        onMessage: (d) => void seen.push(d),
      });

      // Poison on every topic, raw, as a broken or hostile producer would send it.
      const raw = driverSide.bus.kafka.producer();
      await raw.connect();
      for (const kind of TOPIC_KINDS) {
        await raw.send({
          topic: orch.topics[kind],
          messages: [{ value: "not json" }, { value: "{}" }, { value: null }, {
            value: JSON.stringify({ node_id: "../../etc", heartbeat: "NO" }),
          }],
        });
      }

      await driverSide.bus.publish("register", {
        node_id: "one",
        node_IP: "127.0.0.1",
        message_type: "DRIVER_NODE_REGISTER",
        timestamp: Date.now(),
      });
      const beat = setInterval(() => {
        driverSide.bus.publish("heartbeat", {
          node_id: "one",
          heartbeat: "YES",
          timestamp: Date.now(),
          test_id: null,
        }).catch(() => {});
      }, 300);
      try {
        await until("driver one alive", () => controller.registry.alive().includes("one"));
        const created = await call(app, "POST", "/api/tests", AVALANCHE);
        assert.equal(created.status, 201);
        const testId = created.body.test_id as string;
        const triggered = await call(app, "POST", `/api/tests/${testId}/trigger`);
        assert.equal(triggered.status, 200);
        await until("test_config and trigger on Kafka", () => seen.length >= 2);
        assert.deepEqual(seen.map((d) => d.kind).sort(), ["test_config", "trigger"]);
        const trigger = seen.find((d) => d.kind === "trigger")!.message as {
          trigger: string;
          drivers?: string[];
        };
        assert.equal(trigger.trigger, "YES");
        assert.deepEqual(trigger.drivers, ["one"]);

        // A driver's counts are visible through the API within a second of publishing.
        // Stamped by this host's clock: a report more than a day off would be refused on receipt.
        const d = new FakeDriver("one", testId, Date.now()).record(latencies(1, 25, 1000, 100));
        const sentAt = performance.now();
        const first = d.report(1000);
        await driverSide.bus.publish("metrics", first, "one");
        const visibleAfter = await pollUntil(async () => {
          const view = (await call(app, "GET", `/api/tests/${testId}`)).body as {
            drivers: Record<string, { responses: number }>;
          };
          return view.drivers.one?.responses === 25 && performance.now() - sentAt;
        }, { what: "the driver's counts in the API", timeoutMs: 5000, intervalMs: 10 });
        assert.ok(visibleAfter < 1000, `visible after ${visibleAfter.toFixed(0)} ms`);

        // The very same message again (same report_id): Kafka's at-least-once redelivery.
        const ignoredBefore = controller.counters.metrics_ignored;
        await driverSide.bus.publish("metrics", first, "one");
        await until(
          "the duplicate seen",
          () => controller.counters.metrics_ignored === ignoredBefore + 1,
        );
        await driverSide.bus.publish("metrics", d.record([2000]).report(2000, true), "one");
        await until("test finished", () => controller.getTest(testId).state === "finished");
        assert.equal(controller.getTest(testId).overall.responses, 26);

        // Exactly the 4 poison messages sent to each topic were skipped, no more, no fewer.
        const invalid = async () =>
          ((await call(app, "GET", "/healthz")).body as {
            invalid_messages: Record<string, number>;
          }).invalid_messages;
        await until("every poison message counted", async () => {
          const counts = await invalid();
          return ["register", "heartbeat", "metrics"].every((k) => counts[k] === 4);
        });
        assert.deepEqual(
          Object.fromEntries(
            Object.entries(await invalid()).filter(([k]) =>
              ["register", "heartbeat", "metrics"].includes(k)
            ),
          ),
          { register: 4, heartbeat: 4, metrics: 4 },
        );
        assert.equal(driverSide.bus.invalid.test_config, 4);
        assert.equal(driverSide.bus.invalid.trigger, 4);
      } finally {
        clearInterval(beat);
        await raw.disconnect();
        await sub.close();
      }
    } finally {
      await controller.close();
      await orch.bus.close();
      await driverSide.bus.close();
      store.close();
    }
  },
});
