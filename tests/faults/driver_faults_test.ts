/**
 * Faults around the drivers, with real processes on real Kafka: forged and out-of-range messages,
 * metrics from a node that was never chosen, a driver SIGKILLed and restarted under the same name,
 * a driver frozen with SIGSTOP. Each scenario asserts the honest result and that the orchestrator
 * keeps serving — also after a restart. Every process is killed in `finally`.
 */
import assert from "node:assert/strict";
import { Kafka } from "kafkajs";
import { createLatencyHistogram, encodeHistogram } from "../../shared/histogram.ts";
import { installKafkajsFixes } from "../../shared/kafkajs_fixes.ts";
import { topicNames } from "../../shared/topics.ts";
import { Cluster } from "../support/cluster.ts";
import { eventually } from "../support/processes.ts";

const HEARTBEAT_MS = 1000;
/** A real encoded histogram with nothing in it: the forgeries fail on their numbers only. */
const EMPTY_HISTOGRAM = encodeHistogram(createLatencyHistogram());

/** A well-formed final metrics message with nothing in it, from `nodeId` for `testId`. */
const emptyReport = (nodeId: string, testId: string, reportId: number) => ({
  node_id: nodeId,
  test_id: testId,
  report_id: reportId,
  metrics: { mean_latency: 1, median_latency: 1, min_latency: 1, max_latency: 1 },
  timestamp: Date.now(),
  final: true,
  elapsed_ms: 1000,
  requests: 0,
  responses: 0,
  errors: 0,
  error_kinds: {},
  status_codes: {},
  late: 0,
  interval_rps: 0,
  histogram: EMPTY_HISTOGRAM,
});

const until = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000) =>
  eventually(what, probe, ms);

Deno.test({
  name: "faults: forged messages, strangers, restarted and frozen drivers; the results stay honest",
  // kafkajs (the forging producer) leaves internal timers behind; it is disconnected.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const cluster = await Cluster.create("faults");
    const { counters } = cluster;
    const driver = (id: string) => cluster.driver(id, { heartbeatMs: HEARTBEAT_MS });
    const paced = (count: number) =>
      cluster.api("POST", "/api/tests", {
        test_type: "AVALANCHE",
        test_message_delay: 0,
        message_count_per_driver: count,
        target_throughput: 50,
        target_url: cluster.targetUrl,
        connections: 2,
      });
    installKafkajsFixes();
    const kafka = new Kafka({ clientId: "faults-forger", brokers: cluster.brokers, logLevel: 0 });
    const producer = kafka.producer();
    const topics = topicNames(cluster.prefix);
    try {
      await producer.connect();
      let orch = await cluster.startOrchestrator();
      const one = driver("one");
      let two = driver("two");
      await cluster.idle(["one", "two"]);

      await t.step(
        "forged and out-of-range messages are skipped; a restart still works",
        async () => {
          counters.reset();
          const test = await paced(100); // 2 s at 50/s per driver
          await cluster.api("POST", `/api/tests/${test.test_id}/trigger`);
          const now = Date.now();
          const ghost = emptyReport("ghost", test.test_id, 1);
          await producer.send({
            topic: topics.metrics,
            messages: [
              { value: JSON.stringify({ ...ghost, timestamp: 9e15 }) },
              {
                value: JSON.stringify({
                  ...ghost,
                  node_id: "one",
                  timestamp: now,
                  elapsed_ms: 1e12,
                }),
              },
            ],
          });
          await producer.send({
            topic: topics.heartbeat,
            messages: [{
              value: JSON.stringify({ node_id: "one", heartbeat: "YES", timestamp: 9e15 }),
            }],
          });
          const done = await cluster.settled(test.test_id);
          assert.equal(done.state, "finished");
          assert.equal(done.overall.responses, 200);
          assert.equal(counters.requestsReceived, 200);
          assert.equal(done.drivers.ghost, undefined);
          const health = await until("forgeries counted", async () => {
            const h = await cluster.api("GET", "/healthz");
            return h.invalid_messages.metrics >= 2 && h;
          });
          assert.equal(health.invalid_messages.metrics, 2, JSON.stringify(health));
          // A restart replays nothing forged: it starts, and the test reads the same.
          orch.kill("SIGKILL");
          await orch.status;
          orch = await cluster.startOrchestrator();
          const again = await cluster.api("GET", `/api/tests/${test.test_id}`);
          assert.deepEqual(again.overall, done.overall);
          await cluster.idle(["one", "two"]);
        },
      );

      await t.step(
        "metrics from a node the test was not triggered on leave it unchanged",
        async () => {
          const test = await paced(50);
          await cluster.api("POST", `/api/tests/${test.test_id}/trigger`);
          const done = await cluster.settled(test.test_id);
          const stranger = emptyReport("stranger", test.test_id, 7);
          await producer.send({
            topic: topics.metrics,
            messages: [{ value: JSON.stringify(stranger) }],
          });
          const health = await until("the stranger counted", async () => {
            const h = await cluster.api("GET", "/healthz");
            return h.counters.metrics_unchosen >= 1 && h;
          });
          assert.equal(health.counters.metrics_unchosen, 1);
          const after = await cluster.api("GET", `/api/tests/${test.test_id}`);
          assert.deepEqual(after.overall, done.overall);
          assert.equal(after.drivers.stranger, undefined);
        },
      );

      await t.step(
        "a driver SIGKILLed and restarted under its name within 3 s is lost; the test settles",
        async () => {
          counters.reset();
          const test = await paced(500); // 10 s at 50/s per driver
          await cluster.api("POST", `/api/tests/${test.test_id}/trigger`);
          await until("two to report", async () => {
            const v = await cluster.api("GET", `/api/tests/${test.test_id}`);
            return v.drivers.two?.responses > 0;
          });
          two.kill("SIGKILL");
          await two.status;
          const restartedAt = Date.now();
          two = driver("two"); // same name, new run
          const lost = await until("two lost for the test", async () => {
            const v = await cluster.api("GET", `/api/tests/${test.test_id}`);
            return v.drivers.two?.status === "lost" && v;
          });
          assert.match(lost.drivers.two.lost_reason, /restarted|no heartbeat/);
          assert.ok(Date.now() - restartedAt < 3 * HEARTBEAT_MS + 15_000, "lost in time");
          const done = await cluster.settled(test.test_id);
          assert.equal(done.state, "finished");
          assert.equal(done.drivers.one.status, "final");
          assert.equal(done.drivers.one.responses, 500);
          // The new run takes part in the next test.
          await cluster.idle(["one", "two"]);
          const next = await paced(25);
          await cluster.api("POST", `/api/tests/${next.test_id}/trigger`);
          const nextDone = await cluster.settled(next.test_id);
          assert.equal(nextDone.state, "finished");
          assert.equal(nextDone.drivers.two.status, "final");
          assert.equal(nextDone.overall.responses, 50);
        },
      );

      await t.step(
        "a driver frozen for 10 s is lost, then recovers and runs the next test",
        async () => {
          const test = await paced(500);
          await cluster.api("POST", `/api/tests/${test.test_id}/trigger`);
          await until("two to report", async () => {
            const v = await cluster.api("GET", `/api/tests/${test.test_id}`);
            return v.drivers.two?.responses > 0;
          });
          Deno.kill(two.pid, "SIGSTOP");
          try {
            await until("two lost", async () => {
              const v = await cluster.api("GET", `/api/tests/${test.test_id}`);
              return v.drivers.two?.status === "lost";
            }, 10_000);
            await new Promise((r) => setTimeout(r, 6_000)); // frozen 10 s in all
          } finally {
            Deno.kill(two.pid, "SIGCONT");
          }
          const done = await cluster.settled(test.test_id);
          assert.notEqual(done.drivers.two.status, "running");
          await cluster.idle(["one", "two"]);
          const next = await paced(25);
          await cluster.api("POST", `/api/tests/${next.test_id}/trigger`);
          const nextDone = await cluster.settled(next.test_id);
          assert.equal(nextDone.state, "finished");
          assert.equal(nextDone.drivers.two.status, "final");
        },
      );
      void one;
    } finally {
      await producer.disconnect().catch(() => {});
      await cluster.close();
    }
  },
});
