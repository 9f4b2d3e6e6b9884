/**
 * DriverNode while Kafka is away (a MemoryBus whose publishes fail while `down`): the test keeps
 * running, metrics are retried with the newest state, the final report gets out once Kafka is
 * back (the driver stays busy until then), and END or close() wait for it only a bounded time.
 */
import assert from "node:assert/strict";
import { sleep } from "../../shared/async.ts";
import { MemoryBus } from "../../shared/bus.ts";
import { createLogger } from "../../shared/log.ts";
import {
  type InputOf,
  type MetricsMessage,
  parseMessage,
  type TestConfigInput,
} from "../../shared/messages.ts";
import type { TopicKind } from "../../shared/topics.ts";
import { DriverNode } from "../../driver/node.ts";
import type { PoolReport, RunningTest } from "../../driver/pool.ts";
import { createHistogramSet, createTotals } from "../../driver/totals.ts";
import { eventually } from "../support/processes.ts";

/** Publishing fails while `down`, as kafkajs's does once its retries are spent. */
class DownBus extends MemoryBus {
  down = false;
  attempts = 0;
  override publish<K extends TopicKind>(kind: K, message: InputOf[K]): Promise<void> {
    if (kind === "metrics") this.attempts++;
    if (this.down) return Promise.reject(new Error("KafkaJSNumberOfRetriesExceeded"));
    return super.publish(kind, message);
  }
}

function setup(finalWaitMs = 60_000) {
  const bus = new DownBus();
  const reports: ((final: boolean, responses: number) => void)[] = [];
  const node = new DriverNode({
    bus,
    nodeId: "one",
    nodeIp: "10.0.0.1",
    workers: 1,
    heartbeatMs: 20,
    reportMs: 1000,
    logger: createLogger({}, { level: "error", sink: () => {} }),
    metricsRetry: { initialMs: 5, maxMs: 20 },
    finalWaitMs,
    startTest: (_spec, options): RunningTest => {
      let resolve!: (r: PoolReport) => void;
      const done = new Promise<PoolReport>((r) => resolve = r);
      reports.push((final, responses) => {
        const r = {
          ...createTotals(),
          interval: createHistogramSet(),
          requests: responses,
          responses,
          statusCodes: { "200": responses },
          elapsedMs: 10,
        };
        options.onReport?.({ ...r, intervalRps: 1, unfinished: 0, final });
        if (final) resolve({ ...r, intervalRps: 1, unfinished: 0, final });
      });
      return { done, stop: () => {} };
    },
  });
  const metrics = () =>
    bus.log.filter((m) => m.kind === "metrics").map((m) => {
      const parsed = parseMessage("metrics", m.raw);
      assert.ok(parsed.ok);
      return parsed.value as MetricsMessage;
    });
  const beats = () => bus.log.filter((m) => m.kind === "heartbeat").length;
  return { bus, node, reports, metrics, beats };
}

const config: TestConfigInput = {
  test_id: "t1",
  test_type: "AVALANCHE",
  test_message_delay: 0,
  message_count_per_driver: 0,
  duration_s: 60,
  target_url: "http://127.0.0.1:9/ping",
};

async function startRunning(t: ReturnType<typeof setup>) {
  await t.node.start();
  await t.bus.publish("test_config", config);
  await t.bus.publish("trigger", { trigger: "YES", test_id: "t1", timestamp: Date.now() });
  assert.equal(t.node.runningTestId, "t1");
}

Deno.test("outage: reports are retried with the newest state; the final one gets out once Kafka is back", async () => {
  const t = setup();
  try {
    await startRunning(t);
    t.reports[0]!(false, 10);
    await sleep(0);
    assert.deepEqual(t.metrics().map((m) => m.responses), [10]);
    t.bus.down = true;
    const beatsBefore = t.beats();
    t.reports[0]!(false, 20);
    t.reports[0]!(false, 30);
    t.reports[0]!(true, 40); // the test ends while Kafka is away
    await eventually("a few retries", () => t.bus.attempts >= 6, 5000, 5);
    assert.equal(t.node.runningTestId, "t1", "busy until the final report is out");
    assert.equal(t.beats(), beatsBefore, "no heartbeat got through either");
    t.bus.down = false;
    await eventually("the driver to be idle", () => t.node.runningTestId === undefined, 5000, 5);
    const sent = t.metrics();
    // The final report may also go out again with the next heartbeats (the same message).
    const distinct = [...new Map(sent.map((m) => [m.report_id, m.responses])).values()];
    assert.deepEqual(distinct, [10, 40], "only the newest state went out");
    const final = sent.find((m) => m.final)!;
    assert.ok(sent.filter((m) => m.report_id === final.report_id).every((m) => m.responses === 40));
    await eventually("heartbeats again", () => t.beats() > beatsBefore, 5000, 5);
  } finally {
    await t.node.close();
  }
});

Deno.test("outage: END waits for the final report only a bounded time, then the driver ends", async () => {
  const t = setup(50);
  try {
    await startRunning(t);
    t.bus.down = true;
    await t.bus.publishRaw("trigger", JSON.stringify({ trigger: "END", timestamp: Date.now() }));
    t.reports[0]!(true, 5);
    const started = performance.now();
    await t.node.ended;
    assert.ok(performance.now() - started >= 45, "it waited for the final report");
    assert.equal(t.metrics().length, 0, "nothing got out");
  } finally {
    await t.node.close();
  }
});

Deno.test("outage: the first report out after a failed publish is cumulative, and the next continue", async () => {
  const t = setup();
  try {
    await startRunning(t);
    t.reports[0]!(false, 10);
    await sleep(0);
    t.reports[0]!(false, 20);
    await eventually("two reports out", () => t.metrics().length === 2, 5000, 5);
    t.bus.down = true;
    const attempts = t.bus.attempts;
    t.reports[0]!(false, 30);
    await eventually("a failed publish", () => t.bus.attempts > attempts, 5000, 5);
    t.bus.down = false;
    await eventually("the third report out", () => t.metrics().length === 3, 5000, 5);
    t.reports[0]!(false, 40);
    await eventually("the fourth report out", () => t.metrics().length === 4, 5000, 5);
    t.reports[0]!(true, 50);
    await eventually("the final report out", () => t.node.runningTestId === undefined, 5000, 5);
    const since = t.metrics().map((m) => [m.report_id, m.histograms_since]);
    const expected = [[1, undefined], [2, 1], [3, undefined], [4, 3], [5, undefined]];
    assert.deepEqual(since.slice(0, 5), expected, "the final may go out again with heartbeats");
  } finally {
    await t.node.close();
  }
});
