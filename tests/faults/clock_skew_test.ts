/**
 * Drivers whose wall clocks are wrong, for real: two driver processes run under libfaketime
 * (Debian's `faketime` package), one 60 s ahead of this host and one 300 s behind, with the
 * orchestrator and the target on the true clock. The skew is measured, not assumed: from the
 * drivers' own log lines and from the report timestamps the orchestrator received. Then:
 *
 * - a trigger already on the topic before the drivers started is not run, though by the behind
 *   driver's clock it was sent 300 s in the future (a clock-based "older than my start" check
 *   would run it; the offsets-based one does not);
 * - a test through the orchestrator runs on both, every request counted and equal to the
 *   target's own count, and finishes; nothing the drivers sent is refused;
 * - the time series places both drivers' points by the orchestrator's clock (when their first
 *   report arrived), not by theirs, and counts every response of both drivers.
 *
 * Every process and the data dir are cleaned up in `finally`, also on failure.
 */
import assert from "node:assert/strict";
import type { TestConfigInput } from "../../shared/messages.ts";
import { Cluster } from "../support/cluster.ts";
import { type Json } from "../support/api_json.ts";
import { createTestBus } from "../support/kafka.ts";
import type { TestProcess } from "../support/processes.ts";

const RATE = 50; // requests/s per driver
const COUNT = 150; // per driver: 3 s at RATE
const SKEW_MS: Record<string, number> = { ahead: 60_000, behind: -300_000 };
/** How far a measured skew may be from the faked one: log lines are read every 50 ms. */
const MEASURE_SLACK_MS = 2_000;
/**
 * The latest second a driver's first responses may fall in: drivers start within a second or two
 * of the trigger. Placed by the ahead driver's own clock they would fall in second 11 (its start
 * clamped to 10 s after the trigger, orchestrator/aggregator.ts).
 */
const LATEST_FIRST_SECOND = 6;

/**
 * The environment that runs a process with its wall clock `skewMs` off. Only the wall clock:
 * with FAKETIME_DONT_FAKE_MONOTONIC the monotonic clock, which Deno's timers and
 * `performance.now()` run on, stays true (a relative fake would move it too, below zero on a
 * machine up for less than 300 s), as on a host whose clock is merely set wrong.
 */
async function fakedClock(skewMs: number): Promise<Record<string, string>> {
  const lib = `/usr/lib/${Deno.build.arch}-linux-gnu/faketime/libfaketime.so.1`;
  try {
    await Deno.stat(lib);
  } catch {
    throw new Error(`${lib} is missing: install libfaketime with \`apt-get install -y faketime\``);
  }
  const spec = `${skewMs >= 0 ? "+" : ""}${skewMs / 1000}s`;
  return { LD_PRELOAD: lib, FAKETIME: spec, FAKETIME_DONT_FAKE_MONOTONIC: "1" };
}

/** The driver's clock minus ours, from the timestamp of a log line and when we saw it. */
async function logSkew(child: TestProcess): Promise<number> {
  const [, stamp] = await child.waitForOutput(
    /^(\S+) INFO +\[driver\] driver node running/m,
    60_000,
  );
  return Date.parse(stamp!) - Date.now();
}

/**
 * A test configured and triggered before any driver started, stamped by the true clock: 300 s
 * in the future by the behind driver's clock, so a clock-based "older than my start" would run it.
 */
async function leaveOldTrigger(cluster: Cluster, testId: string): Promise<void> {
  const { bus } = await createTestBus("clock-old-trigger", cluster.prefix);
  try {
    const config: TestConfigInput = {
      test_id: testId,
      test_type: "AVALANCHE",
      test_message_delay: 0,
      message_count_per_driver: 7,
      target_url: cluster.targetUrl,
    };
    await bus.publish("test_config", config);
    await bus.publish("trigger", { trigger: "YES", test_id: testId, timestamp: Date.now() });
  } finally {
    await bus.close();
  }
}

/**
 * The orchestrator took the skewed timestamps as they were: nothing refused, liveness on its own
 * clock, and each final report stamped by its driver's clock, which less the skew falls inside
 * the test's real span. Returns those stamps (ms after the trigger) per driver.
 */
async function assertTimestampsTaken(
  cluster: Cluster,
  done: Json,
): Promise<Record<string, number>> {
  const triggeredAt = Date.parse(done.triggered_at);
  const endedAt = Date.parse(done.ended_at);
  const stamped: Record<string, number> = {};
  for (const [node, skew] of Object.entries(SKEW_MS)) {
    const at = Date.parse(done.drivers[node].reported_at) - skew;
    stamped[node] = at - triggeredAt;
    assert.ok(
      at >= triggeredAt - MEASURE_SLACK_MS && at <= endedAt + MEASURE_SLACK_MS,
      `${node}: report stamped ${at - triggeredAt} ms after the trigger, less its skew`,
    );
  }
  const health = await cluster.api("GET", "/healthz");
  for (const kind of ["register", "heartbeat", "metrics"]) {
    assert.equal(health.invalid_messages[kind], 0, `${kind} refused: ${JSON.stringify(health)}`);
  }
  const { drivers } = await cluster.api("GET", "/api/drivers");
  for (const d of drivers as Json[]) {
    assert.ok(Math.abs(Date.parse(d.last_heartbeat) - Date.now()) < 10_000, d.node_id);
  }
  return stamped;
}

/**
 * The series: each driver's points placed by when its first report arrived, so both start in the
 * first seconds whatever their clocks say; every response counted.
 */
async function assertSeries(cluster: Cluster, testId: string): Promise<void> {
  const series = await cluster.api("GET", `/api/tests/${testId}/timeseries`);
  // Seconds before a driver's first report are there with zeros: the first that counts.
  const first = (node: string) => series.drivers[node].find((p: Json) => p.responses > 0)?.t;
  const sum = (points: Json[]) => points.reduce((n, p) => n + p.responses, 0);
  for (const node of Object.keys(SKEW_MS)) {
    assert.ok(first(node) <= LATEST_FIRST_SECOND, `${node} starts at second ${first(node)}`);
  }
  for (const node of Object.keys(SKEW_MS)) assert.equal(sum(series.drivers[node]), COUNT, node);
  assert.equal(sum(series.overall), 2 * COUNT);
}

Deno.test({
  name: "drivers 60 s ahead and 300 s behind run a real test and replay no old trigger",
  sanitizeOps: false, // kafkajs (the old trigger's producer) leaves internal timers behind
  sanitizeResources: false,
  fn: async () => {
    const ids = Object.keys(SKEW_MS);
    const envs = await Promise.all(ids.map((id) => fakedClock(SKEW_MS[id]!)));
    const cluster = await Cluster.create("clock");
    const oldId = `old-${crypto.randomUUID().slice(0, 8)}`;
    try {
      await cluster.startOrchestrator();
      await leaveOldTrigger(cluster, oldId);
      const drivers = ids.map((id, i) => cluster.driver(id, { env: envs[i] }));
      const measured = await Promise.all(drivers.map(logSkew));
      ids.forEach((id, i) => {
        const off = measured[i]! - SKEW_MS[id]!;
        assert.ok(Math.abs(off) <= MEASURE_SLACK_MS, `${id}: clock ${measured[i]} ms off, faked?`);
      });
      await cluster.idle(ids);
      for (const child of drivers) {
        await child.waitForOutput(
          new RegExp(`ignoring a trigger sent before this driver started .*test_id=${oldId}`),
        );
      }
      assert.equal(cluster.counters.requestsReceived, 0, "the old trigger was run");

      const id = await cluster.run({
        test_type: "AVALANCHE",
        test_message_delay: 0,
        message_count_per_driver: COUNT,
        target_throughput: RATE,
        target_url: cluster.targetUrl,
        connections: 2,
      });
      const done = await cluster.settled(id);
      assert.equal(done.state, "finished", JSON.stringify(done.reason));
      for (const node of ids) {
        const d = done.drivers[node];
        assert.equal(d.status, "final", node);
        assert.equal(d.requests, COUNT, node);
        assert.equal(d.responses, COUNT, node);
      }
      assert.equal(done.overall.requests, 2 * COUNT);
      assert.equal(cluster.counters.requestsReceived, 2 * COUNT);
      assert.equal(cluster.counters.responsesSent, 2 * COUNT);
      const stamped = await assertTimestampsTaken(cluster, done);
      await assertSeries(cluster, id);
      const settledMs = Date.parse(done.ended_at) - Date.parse(done.triggered_at);
      console.log(
        `clock skew: measured ${
          ids.map((n, i) => `${n} ${(measured[i]! / 1000).toFixed(2)} s`).join(", ")
        }; final reports stamped ${ids.map((n) => `${n} +${stamped[n]} ms`).join(", ")} after ` +
          `the trigger (less skew); settled ${settledMs} ms after the trigger; target counted ` +
          `${cluster.counters.requestsReceived}`,
      );
    } finally {
      await cluster.close();
    }
  },
});
