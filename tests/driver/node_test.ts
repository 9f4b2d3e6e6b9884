/**
 * DriverNode's routing on the in-process MemoryBus (every message still goes through the real
 * encode and parse). The engine is replaced by a runner the test controls; the real engine on
 * real Kafka is node_kafka_test.ts.
 */
import assert from "node:assert/strict";
import { sleep } from "../../shared/async.ts";
import { MemoryBus } from "../../shared/bus.ts";
import { createLogger } from "../../shared/log.ts";
import {
  type HeartbeatMessage,
  isProbe,
  type MetricsMessage,
  parseMessage,
  type TestConfigInput,
} from "../../shared/messages.ts";
import { DriverNode } from "../../driver/node.ts";
import { MAX_CONFIGS, PENDING_TRIGGER_MS } from "../../driver/trigger_inbox.ts";
import type { PoolOptions, PoolReport, RunningTest } from "../../driver/pool.ts";
import { createHistogramSet, createTotals } from "../../driver/totals.ts";
import type { LoadSpec } from "../../driver/worker_protocol.ts";

interface FakeRun {
  spec: LoadSpec;
  options: PoolOptions;
  stopped: boolean;
  report(final: boolean, responses: number): void;
}

/** `skewMs`: how far the driver's clock is from the orchestrator's (the test's) clock. */
function setup(skewMs = 0) {
  const bus = new MemoryBus();
  let clock = 1_000_000;
  const runs: FakeRun[] = [];
  const lines: string[] = [];
  const node = new DriverNode({
    bus,
    nodeId: "one",
    nodeIp: "10.0.0.1",
    workers: 2,
    heartbeatMs: 60_000,
    reportMs: 1000,
    logger: createLogger({}, { level: "debug", sink: (l) => lines.push(l) }),
    now: () => clock + skewMs,
    startTest: (spec, options): RunningTest => {
      let resolve!: (r: PoolReport) => void;
      const done = new Promise<PoolReport>((r) => resolve = r);
      const run: FakeRun = {
        spec,
        options,
        stopped: false,
        report(final, responses) {
          const r: PoolReport = {
            ...createTotals(),
            interval: createHistogramSet(),
            requests: responses,
            responses,
            statusCodes: { "200": responses },
            elapsedMs: 10,
            intervalRps: 1,
            unfinished: 0,
            final,
          };
          options.onReport?.(r);
          if (final) resolve(r);
        },
      };
      runs.push(run);
      return { done, stop: () => run.stopped = true };
    },
  });
  const sent = <K extends "register" | "heartbeat" | "metrics">(kind: K) =>
    bus.log.filter((m) => m.kind === kind).map((m) => {
      const parsed = parseMessage(kind, m.raw);
      assert.ok(parsed.ok);
      return parsed.value;
    });
  return {
    bus,
    node,
    runs,
    lines,
    sent,
    /** The driver's heartbeats (the topic carries orchestrators' probes too). */
    beats: () => sent("heartbeat").filter((m): m is HeartbeatMessage => !isProbe(m)),
    advance: (ms: number) => clock += ms,
    now: () => clock,
  };
}

const config = (testId: string, over: Partial<TestConfigInput> = {}): TestConfigInput => ({
  test_id: testId,
  test_type: "AVALANCHE",
  test_message_delay: 0,
  message_count_per_driver: 100,
  target_url: "http://127.0.0.1:9/ping",
  ...over,
});

const flush = () => sleep(0);

Deno.test("a driver registers, heartbeats, and runs a triggered test with its config", async () => {
  const t = setup();
  try {
    await t.bus.publish("test_config", config("t1", { connections: 7, target_throughput: 500 }));
    await t.node.start();
    assert.deepEqual(t.sent("register").map((m) => [m.node_id, m.node_IP, m.message_type]), [
      ["one", "10.0.0.1", "DRIVER_NODE_REGISTER"],
    ]);
    assert.equal(t.beats().length, 1);
    t.advance(5);
    await t.bus.publish("trigger", { trigger: "YES", test_id: "t1", timestamp: t.now() });
    assert.equal(t.runs.length, 1);
    assert.equal(t.runs[0]!.spec.connections, 7);
    assert.equal(t.runs[0]!.spec.intervalMs, 2);
    assert.equal(t.node.runningTestId, "t1");
    t.runs[0]!.report(false, 10);
    t.runs[0]!.report(true, 100);
    await flush();
    const metrics = t.sent("metrics") as MetricsMessage[];
    // The final report goes out again with the idle heartbeat that follows it: the same message,
    // so a duplicate changes nothing, and a lost one is made good.
    assert.deepEqual(metrics.map((m) => [m.report_id, m.responses, m.final]), [
      [1, 10, false],
      [2, 100, true],
      [2, 100, true],
    ]);
    assert.deepEqual(metrics[2], metrics[1]);
    assert.ok(metrics.every((m) => m.instance_id === t.node.instanceId));
    assert.equal(t.node.runningTestId, undefined);
    assert.equal(t.beats().at(-1)!.test_id, null);
  } finally {
    await t.node.close();
  }
});

Deno.test("configs for other drivers, unknown tests, old and repeated triggers are ignored", async () => {
  const t = setup();
  try {
    await t.bus.publish("trigger", { trigger: "YES", test_id: "old", timestamp: t.now() - 1 });
    await t.bus.publish("test_config", config("old"));
    await t.bus.publish("test_config", config("theirs", { drivers: ["two", "three"] }));
    await t.bus.publish("trigger", { trigger: "END", timestamp: t.now() - 1 });
    await t.node.start();
    await t.bus.publish("trigger", { trigger: "YES", test_id: "theirs", timestamp: t.now() });
    await t.bus.publish("trigger", { trigger: "YES", test_id: "nope", timestamp: t.now() });
    await t.bus.publish("trigger", {
      trigger: "YES",
      test_id: "old",
      timestamp: t.now(),
      drivers: ["two"],
    });
    assert.equal(t.runs.length, 0);
    await t.bus.publish("trigger", { trigger: "YES", test_id: "old", timestamp: t.now() });
    assert.equal(t.runs.length, 1);
    t.runs[0]!.report(true, 100);
    await flush();
    await t.bus.publish("trigger", { trigger: "YES", test_id: "old", timestamp: t.now() });
    assert.equal(t.runs.length, 1, "a test runs once");
    assert.match(t.lines.join("\n"), /sent before this driver started/);
    assert.match(t.lines.join("\n"), /already run/);
    // "nope" never gets a config: once its wait is over, the next trigger forgets it loudly.
    assert.doesNotMatch(t.lines.join("\n"), /unknown test/);
    t.advance(PENDING_TRIGGER_MS + 1);
    await t.bus.publish("trigger", { trigger: "YES", test_id: "nope2", timestamp: t.now() });
    assert.match(t.lines.join("\n"), /unknown test.*nope/);
    await t.bus.publish("test_config", config("nope"));
    assert.equal(t.runs.length, 1, "a config arriving after the wait does not start the test");
  } finally {
    await t.node.close();
  }
});

Deno.test("a trigger that overtakes its config starts the test when the config arrives", async () => {
  const t = setup();
  try {
    await t.node.start();
    await t.bus.publish("trigger", { trigger: "YES", test_id: "fast", timestamp: t.now() });
    assert.equal(t.runs.length, 0);
    t.advance(500);
    await t.bus.publish("test_config", config("fast"));
    assert.equal(t.runs.length, 1);
    // A STOP before the config arrives cancels the waiting trigger.
    await t.bus.publish("trigger", { trigger: "YES", test_id: "later", timestamp: t.now() });
    await t.bus.publish("trigger", { trigger: "STOP", test_id: "later", timestamp: t.now() });
    t.runs[0]!.report(true, 1);
    await flush();
    await t.bus.publish("test_config", config("later"));
    assert.equal(t.runs.length, 1);
  } finally {
    await t.node.close();
  }
});

Deno.test("poison test_config and trigger messages are skipped and the driver keeps going", async () => {
  const t = setup();
  try {
    await t.node.start();
    await t.bus.publishRaw("test_config", "{not json");
    await t.bus.publishRaw("test_config", JSON.stringify({ ...config("bad"), test_type: "FLOOD" }));
    await t.bus.publishRaw(
      "test_config",
      JSON.stringify({ ...config("bad2"), test_type: "TSUNAMI", test_message_delay: 0 }),
    );
    await t.bus.publishRaw(
      "test_config",
      JSON.stringify(config("bad3", { target_url: "ftp://x" })),
    );
    await t.bus.publishRaw("trigger", JSON.stringify({ trigger: "MAYBE", test_id: "x" }));
    assert.equal(t.bus.invalid.test_config, 4);
    assert.equal(t.bus.invalid.trigger, 1);
    await t.bus.publish("test_config", config("good"));
    await t.bus.publish("trigger", { trigger: "YES", test_id: "good", timestamp: t.now() });
    assert.equal(t.runs.length, 1);
    t.runs[0]!.report(true, 1);
  } finally {
    await t.node.close();
  }
});

Deno.test("STOP stops the running test; END finishes after the final metrics are out", async () => {
  const t = setup();
  await t.node.start();
  await t.bus.publish("test_config", config("a", { message_count_per_driver: 0, duration_s: 60 }));
  await t.bus.publish("trigger", { trigger: "YES", test_id: "a", timestamp: t.now() });
  await t.bus.publish("trigger", { trigger: "STOP", test_id: "other", timestamp: t.now() });
  assert.equal(t.runs[0]!.stopped, false);
  await t.bus.publish("trigger", { trigger: "STOP", test_id: "a", timestamp: t.now() });
  assert.equal(t.runs[0]!.stopped, true);
  t.runs[0]!.report(true, 5);
  await flush();

  await t.bus.publish("test_config", config("b", { message_count_per_driver: 0, duration_s: 60 }));
  await t.bus.publish("trigger", { trigger: "YES", test_id: "b", timestamp: t.now() });
  let ended = false;
  t.node.ended.then(() => ended = true);
  await t.bus.publish("trigger", { trigger: "END", timestamp: t.now(), drivers: ["two"] });
  await flush();
  assert.equal(t.runs[1]!.stopped, false, "an END for other drivers");
  await t.bus.publish("trigger", { trigger: "END", timestamp: t.now() });
  assert.equal(t.runs[1]!.stopped, true);
  await flush();
  assert.equal(ended, false, "not before the final metrics");
  t.runs[1]!.report(true, 7);
  await t.node.ended;
  const last = (t.sent("metrics") as MetricsMessage[]).at(-1)!;
  assert.deepEqual([last.test_id, last.final, last.responses], ["b", true, 7]);
  await t.node.close();
});

for (const skewMs of [60_000, -300_000]) {
  Deno.test(`a driver whose clock is ${skewMs / 1000} s off runs new triggers and ignores old ones`, async () => {
    const t = setup(skewMs);
    try {
      // Sent before the driver started, stamped by the orchestrator's clock: old by offset.
      await t.bus.publish("test_config", config("t0"));
      await t.bus.publish("trigger", { trigger: "YES", test_id: "t0", timestamp: t.now() });
      await t.node.start();
      assert.equal(t.runs.length, 0, "a trigger from before the start is not run");
      await t.bus.publish("test_config", config("t1"));
      await t.bus.publish("trigger", { trigger: "YES", test_id: "t1", timestamp: t.now() });
      assert.equal(t.runs.length, 1, "a trigger after the start runs, whatever the clocks say");
      t.runs[0]!.report(true, 100);
      await flush();
      const final = (t.sent("metrics") as MetricsMessage[]).find((m) => m.final)!;
      assert.equal(final.test_id, "t1");
    } finally {
      await t.node.close();
    }
  });
}

Deno.test("a node keeps the newest 100 configs and pending triggers, whatever Kafka sends", async () => {
  const t = setup();
  await t.node.start();
  const many = MAX_CONFIGS + 50;
  for (let i = 0; i < many; i++) await t.bus.publish("test_config", config(`c${i}`));
  // The oldest 50 are forgotten: their triggers wait for a config, as for an unknown test.
  await t.bus.publish("trigger", { trigger: "YES", test_id: "c0", timestamp: t.now() });
  assert.equal(t.runs.length, 0);
  await t.bus.publish("trigger", { trigger: "YES", test_id: `c${many - 1}`, timestamp: t.now() });
  assert.equal(t.runs.length, 1);
  t.runs[0]!.report(true, 1);
  await flush();

  // Triggers for tests nobody configured: only the newest 100 wait for their config.
  for (let i = 0; i < many; i++) {
    await t.bus.publish("trigger", { trigger: "YES", test_id: `u${i}`, timestamp: t.now() });
  }
  await t.bus.publish("test_config", config("u0"));
  assert.equal(t.runs.length, 1, "u0's trigger was forgotten");
  await t.bus.publish("test_config", config(`u${many - 1}`));
  assert.equal(t.runs.length, 2);
  t.runs[1]!.report(true, 1);
  await t.node.close();
});

Deno.test("closing sends one last heartbeat saying the node leaves, after its final metrics", async () => {
  const t = setup();
  await t.node.start();
  await t.bus.publish("test_config", config("a", { message_count_per_driver: 0, duration_s: 60 }));
  await t.bus.publish("trigger", { trigger: "YES", test_id: "a", timestamp: t.now() });
  await t.bus.publish("trigger", { trigger: "END", timestamp: t.now(), drivers: ["one"] });
  t.runs[0]!.report(true, 3);
  await t.node.ended;
  assert.equal(t.beats().filter((b) => b.leaving).length, 0, "not before closing");
  await t.node.close();
  const order = t.bus.log.filter((m) => m.kind !== "register").map((m) => {
    const beat = m.kind === "heartbeat" ? parseMessage("heartbeat", m.raw) : undefined;
    return beat?.ok && !isProbe(beat.value) && beat.value.leaving ? "leaving" : m.kind;
  });
  assert.equal(order.at(-1), "leaving", order.join(" "));
  assert.ok(order.lastIndexOf("metrics") < order.indexOf("leaving"), order.join(" "));
  const leaving = t.beats().at(-1)!;
  assert.deepEqual(
    [leaving.leaving, leaving.test_id, leaving.instance_id],
    [true, null, t.node.instanceId],
  );
});

Deno.test("a node that never started sends no leaving heartbeat", async () => {
  const t = setup();
  await t.node.close();
  assert.equal(t.beats().length, 0);
});
