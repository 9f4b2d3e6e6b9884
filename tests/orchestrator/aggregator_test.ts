import assert from "node:assert/strict";
import { type AggregateContext, TestAggregate } from "../../orchestrator/aggregator.ts";
import { spread } from "../../orchestrator/timeseries.ts";
import type { MetricsMessage } from "../../shared/messages.ts";
import { FakeDriver, latencies } from "./fake_driver.ts";

/** Hands `m` to `agg` as if it arrived the moment it was sent. */
function feed(agg: TestAggregate, m: MetricsMessage): boolean {
  return agg.accept(m, m.timestamp) === "accepted";
}

/** FakeDriver reports carry timestamp 1.7e12 + elapsed: their test clock starts at 1.7e12. */
const T0 = 1_700_000_000_000;
const context = (over: Partial<AggregateContext> = {}) => () => ({
  rate: null,
  connections: 10,
  triggeredAt: T0,
  ...over,
});
const all = () => true;

/** The nearest-rank percentile of raw samples, in ms: what an exact histogram would say. */
function nearestRank(samplesUs: readonly number[], p: number): number {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]! / 1000;
}

/** HDR keeps 3 significant digits: every value is within 0.1 % of the sample it stands for. */
function assertWithinHdr(actual: number, expected: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= expected * 0.001 + 0.001,
    `${what}: ${actual} vs ${expected}`,
  );
}

/** Three drivers with very different latency profiles, two reports each (`legacy`: see report). */
function threeDrivers(legacy = false) {
  const samples = {
    one: [latencies(1, 3000, 500, 2000), latencies(2, 2000, 500, 2000)],
    two: [latencies(3, 1000, 20_000, 80_000), latencies(4, 500, 20_000, 80_000)],
    three: [latencies(5, 4000, 100, 300), latencies(6, 10, 1_000_000, 10)],
  };
  const messages: MetricsMessage[] = [];
  for (const [node, batches] of Object.entries(samples)) {
    const d = new FakeDriver(node, "t1");
    d.record(batches[0]!);
    messages.push(d.report(1000, false, legacy));
    d.record(batches[1]!, node === "two" ? 7 : 0, 2_000_000);
    messages.push(d.report(2000, true, legacy));
  }
  const responses = Object.values(samples).flat(2);
  // The 7 timeouts of driver two ended after 2 s and count in the latency.
  const ended = [...responses, ...new Array(7).fill(2_000_000)];
  return { messages, responses, ended };
}

Deno.test("aggregate: merged percentiles equal those of the pooled samples, at HDR precision", () => {
  const { messages, responses, ended } = threeDrivers();
  const agg = new TestAggregate("t1", context());
  for (const m of messages) assert.equal(feed(agg, m), true);
  const overall = agg.overall(all);
  for (const [p, key] of [[50, "median"], [90, "p90"], [99, "p99"], [99.9, "p999"]] as const) {
    assertWithinHdr(overall.latency_ms[key], nearestRank(ended, p), `latency p${p}`);
    assertWithinHdr(overall.latency_ok_ms[key], nearestRank(responses, p), `ok p${p}`);
  }
  assertWithinHdr(overall.latency_ms.max, 2000, "max is a timeout");
  assert.equal(overall.responses, responses.length);
  assert.equal(overall.requests, responses.length + 7);
  assert.equal(overall.offered, overall.requests);
  assert.equal(overall.errors, 7);
  assert.deepEqual(overall.error_kinds, { timeout: 7 });
  assert.deepEqual(overall.status_codes, { "200": responses.length });
  assert.equal(overall.elapsed_s, 2);
  assert.equal(overall.rps.mean, responses.length / 2);
  // The merged p99 is not the mean of the drivers' p99s (which is what averaging would give).
  const driverP99 = agg.nodes().map((n) => agg.driverStats(n, true)!.latency_ms.p99);
  const averaged = driverP99.reduce((a, b) => a + b, 0) / driverP99.length;
  assert.ok(Math.abs(overall.latency_ms.p99 - averaged) > 1, `${overall.latency_ms.p99}`);
});

Deno.test("aggregate: duplicates and out-of-order snapshots change nothing", () => {
  const { messages } = threeDrivers();
  const inOrder = new TestAggregate("t1", context());
  for (const m of messages) feed(inOrder, m);

  const shuffled = new TestAggregate("t1", context());
  const reversed = [...messages].reverse();
  const accepted = [...reversed, ...messages, ...messages].map((m) => feed(shuffled, m));
  // Reversed: each driver's newest report arrives first, so its older one is stale.
  assert.deepEqual(accepted.slice(0, 6), [true, false, true, false, true, false]);
  assert.ok(accepted.slice(6).every((a) => a === false));
  assert.deepEqual(shuffled.overall(all), inOrder.overall(all));
  for (const node of inOrder.nodes()) {
    assert.deepEqual(shuffled.driverStats(node, true), inOrder.driverStats(node, true));
  }
});

Deno.test("aggregate: another test's metrics are refused and a bad histogram throws", () => {
  const agg = new TestAggregate("t1", context());
  const other = new FakeDriver("one", "t2").record([1000]).report(1000);
  assert.equal(feed(agg, other), false);
  const bad = { ...new FakeDriver("one", "t1").record([1000]).report(1000), histogram: "@@" };
  assert.throws(() => feed(agg, bad), { name: "RangeError", message: /histogram/ });
  assert.deepEqual(agg.nodes(), []);
});

Deno.test("aggregate: a report whose failed histogram cannot be part of its histogram is refused", () => {
  const report = () => new FakeDriver("one", "t1").record([1000, 2000], 1, 5000).report(1000);
  const elsewhere = new FakeDriver("x", "t1").record([], 1, 9000).report(1000).failed_histogram;
  const okElsewhere =
    new FakeDriver("x", "t1").record([9000]).report(1000, false, true).ok_histogram;
  const none = new FakeDriver("x", "t1").report(1000).failed_histogram;
  const table: [string, Partial<MetricsMessage>, RegExp][] = [
    ["a failure at a latency no request had", { failed_histogram: elsewhere }, /lacks/],
    ["fewer failures than errors", { failed_histogram: none }, /fewer than the 1 errors/],
    ["an ok histogram with a latency no request had", {
      failed_histogram: undefined,
      ok_histogram: okElsewhere,
    }, /lacks/],
  ];
  for (const [name, change, message] of table) {
    const agg = new TestAggregate("t1", context());
    assert.throws(
      () => feed(agg, { ...report(), ...change }),
      { name: "RangeError", message },
      name,
    );
    assert.deepEqual(agg.nodes(), [], name);
  }
});

Deno.test("aggregate: reports with the expected responses' own histogram (older drivers) read the same", () => {
  const { messages, responses } = threeDrivers();
  const { messages: legacy } = threeDrivers(true);
  assert.ok(legacy.every((m) => m.ok_histogram !== undefined && m.failed_histogram === undefined));
  const agg = new TestAggregate("t1", context());
  const old = new TestAggregate("t1", context());
  for (const m of messages) feed(agg, m);
  for (const m of legacy) feed(old, m);
  assert.deepEqual(old.overall(all), agg.overall(all));
  assertWithinHdr(old.overall(all).latency_ok_ms.p99, nearestRank(responses, 99), "ok p99");
});

Deno.test("aggregate: rps.last sums only the drivers still running", () => {
  const a = new FakeDriver("a", "t1");
  const b = new FakeDriver("b", "t1");
  const agg = new TestAggregate("t1", context());
  feed(agg, { ...a.record(latencies(1, 100, 1000, 10)).report(1000), interval_rps: 100 });
  feed(agg, { ...b.record(latencies(2, 300, 1000, 10)).report(1000), interval_rps: 300 });
  assert.equal(agg.overall(all).rps.last, 400);
  // b is lost: its last rate is history, not load on the target now.
  assert.equal(agg.overall((id) => id !== "b").rps.last, 100);
  assert.equal(agg.driverStats("b", false)!.rps.last, 0);
  assert.equal(agg.driverStats("a", true)!.rps.last, 100);
  // a finishes: a final report is not a current rate either.
  feed(agg, { ...a.report(2000, true), interval_rps: 100 });
  assert.equal(agg.overall(all).rps.last, 300);
});

Deno.test("aggregate: per-second series is exact per interval and merged across drivers", () => {
  const a = new FakeDriver("a", "t1");
  const b = new FakeDriver("b", "t1");
  const agg = new TestAggregate("t1", context());
  const s1a = latencies(7, 100, 1000, 100); // ~1 ms
  const s1b = latencies(8, 300, 9000, 100); // ~9 ms
  const s2a = latencies(9, 50, 50_000, 100); // ~50 ms
  feed(agg, a.record(s1a).report(1000));
  feed(agg, b.record(s1b).report(1000));
  feed(agg, a.record(s2a).report(2000, true));
  feed(agg, b.report(2000, true)); // b idle in second 2
  const series = agg.series();
  assert.equal(series.overall.length, 2);
  const [p1, p2] = series.overall;
  assert.equal(p1!.responses, 400);
  assert.equal(p2!.responses, 50);
  const first = [...s1a, ...s1b];
  assertWithinHdr(p1!.p50!, nearestRank(first, 50), "second 1 p50");
  assertWithinHdr(p1!.p99!, nearestRank(first, 99), "second 1 p99");
  assertWithinHdr(p2!.p90!, nearestRank(s2a, 90), "second 2 p90");
  assert.equal(series.drivers.b![1]!.responses, 0);
  assert.equal(series.drivers.b![1]!.p50, null);
  assert.equal(series.drivers.a![1]!.throughput, 50);
});

Deno.test("aggregate: a lost report's successor spreads over its real interval, no spike/zero pair", () => {
  const a = new FakeDriver("a", "t1");
  const agg = new TestAggregate("t1", context());
  feed(agg, a.record(latencies(1, 1000, 1000, 10)).report(1000));
  a.record(latencies(2, 1000, 1000, 10)).report(2000); // lost on the way
  feed(agg, a.record(latencies(3, 1000, 1000, 10)).report(3000));
  assert.deepEqual(agg.series().overall.map((p) => p.responses), [1000, 1000, 1000]);
  assert.equal(agg.overall(all).responses, 3000);
});

Deno.test("aggregate: 2 s report intervals at a steady 1,000/s give 1,000 in every second", () => {
  const a = new FakeDriver("a", "t1");
  const agg = new TestAggregate("t1", context());
  for (let k = 1; k <= 3; k++) feed(agg, a.record(latencies(k, 2000, 1000, 10)).report(k * 2000));
  assert.deepEqual(agg.series().overall.map((p) => p.throughput), new Array(6).fill(1000));
});

Deno.test("aggregate: seconds count from the trigger, placing a driver that started later", () => {
  const a = new FakeDriver("a", "t1");
  // Triggered 1.5 s before the driver's test clock started.
  const agg = new TestAggregate("t1", context({ triggeredAt: T0 - 1500 }));
  feed(agg, a.record(latencies(1, 1000, 1000, 10)).report(1000)); // [1.5 s, 2.5 s)
  assert.deepEqual(agg.series().overall.map((p) => p.responses), [0, 500, 500]);
});

Deno.test("aggregate: a driver's skewed wall clock does not move its points; arrival does", () => {
  for (const skewMs of [60_000, -300_000, 0]) {
    const a = new FakeDriver("a", "t1");
    const agg = new TestAggregate("t1", context({ triggeredAt: T0 - 1500 }));
    const report = a.record(latencies(1, 1000, 1000, 10)).report(1000);
    // Arrived when it was sent by the orchestrator's clock; stamped by a clock off by skewMs.
    agg.accept({ ...report, timestamp: report.timestamp + skewMs }, report.timestamp);
    assert.deepEqual(agg.series().overall.map((p) => p.responses), [0, 500, 500], `${skewMs}`);
  }
});

Deno.test("spread() gives every second its share and the shares add up exactly", () => {
  const table: [number, number, number, [number, number][]][] = [
    [0, 1000, 7, [[1, 7]]],
    [0, 2000, 7, [[1, 4], [2, 3]]],
    [500, 1500, 10, [[1, 5], [2, 5]]],
    [999, 3001, 3, [[1, 0], [2, 2], [3, 1], [4, 0]]],
    [1200, 1200, 4, [[2, 4]]],
    [0, 3000, 0, [[1, 0], [2, 0], [3, 0]]],
  ];
  for (const [from, to, total, want] of table) {
    const got = spread(from, to, total);
    assert.deepEqual(got, want, `${from}-${to} of ${total}`);
    assert.equal(got.reduce((sum, [, n]) => sum + n, 0), total);
  }
});

Deno.test("aggregate: a report claiming an absurd elapsed time stays out of the series", () => {
  const a = new FakeDriver("a", "t1");
  const agg = new TestAggregate("t1", context());
  feed(agg, { ...a.record([1000]).report(1e12) });
  assert.deepEqual(agg.series().overall, []);
  assert.equal(agg.overall(all).responses, 1);
});

Deno.test("aggregate: dropped and queued slots add up and warn, naming the fix", () => {
  const a = new FakeDriver("a", "t1");
  const b = new FakeDriver("b", "t1");
  const agg = new TestAggregate("t1", context({ rate: 1000, connections: 10 }));
  feed(agg, { ...a.record(latencies(1, 300, 100_000, 10)).report(3000, true), dropped: 2700 });
  feed(agg, { ...b.record(latencies(2, 300, 100_000, 10)).report(3000, true), queued: 5 });
  const overall = agg.overall(all);
  assert.equal(overall.dropped, 2700);
  assert.equal(overall.queued, 5);
  assert.equal(overall.offered, 600 + 2700);
  // 2 drivers × 1,000/s at ~100 ms each need ~200 connections; they had 2 × 10.
  assert.equal(overall.warnings.length, 1);
  assert.match(overall.warnings[0]!, /^20 connections cannot carry 2,000 req\/s at 100 ms/);
  assert.match(overall.warnings[0]!, /use ≥ 24\d connections or more drivers/);
  assert.match(agg.driverStats("a", false)!.warnings[0]!, /^10 connections cannot carry 1,000/);
});
