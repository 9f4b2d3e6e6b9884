import assert from "node:assert/strict";
import { TestAggregate } from "../../orchestrator/aggregator.ts";
import { createLatencyHistogram, recordMicros, summarize } from "../../shared/histogram.ts";
import type { MetricsMessage } from "../../shared/messages.ts";
import { FakeDriver, latencies } from "./fake_driver.ts";

const msOf = (s: ReturnType<typeof summarize>) => {
  const { count: _c, ...rest } = s;
  return rest;
};

/** Three drivers with very different latency profiles, two reports each. */
function threeDrivers() {
  const samples = {
    one: [latencies(1, 3000, 500, 2000), latencies(2, 2000, 500, 2000)],
    two: [latencies(3, 1000, 20_000, 80_000), latencies(4, 500, 20_000, 80_000)],
    three: [latencies(5, 4000, 100, 300), latencies(6, 10, 1_000_000, 10)],
  };
  const messages: MetricsMessage[] = [];
  for (const [node, batches] of Object.entries(samples)) {
    const d = new FakeDriver(node, "t1");
    d.record(batches[0]!);
    messages.push(d.report(1000));
    d.record(batches[1]!, node === "two" ? 7 : 0);
    messages.push(d.report(2000, true));
  }
  const all = Object.values(samples).flat(2);
  return { messages, all };
}

Deno.test("aggregate: merging three drivers' histograms equals the histogram of all samples", () => {
  const { messages, all } = threeDrivers();
  const agg = new TestAggregate("t1");
  for (const m of messages) assert.equal(agg.accept(m), true);
  const reference = createLatencyHistogram();
  for (const us of all) recordMicros(reference, us);
  const overall = agg.overall();
  assert.deepEqual(overall.latency_ms, msOf(summarize(reference)));
  assert.equal(overall.responses, all.length);
  assert.equal(overall.requests, all.length + 7);
  assert.equal(overall.errors, 7);
  assert.deepEqual(overall.error_kinds, { timeout: 7 });
  assert.deepEqual(overall.status_codes, { "200": all.length });
  assert.equal(overall.elapsed_s, 2);
  assert.equal(overall.rps.mean, all.length / 2);
  // Sanity: the merged p99 is not the mean of the drivers' p99s.
  const driverP99 = agg.nodes().map((n) => agg.driverStats(n)!.latency_ms.p99);
  const averaged = driverP99.reduce((a, b) => a + b, 0) / driverP99.length;
  assert.notEqual(overall.latency_ms.p99, averaged);
});

Deno.test("aggregate: duplicates and out-of-order snapshots change nothing", () => {
  const { messages } = threeDrivers();
  const inOrder = new TestAggregate("t1");
  for (const m of messages) inOrder.accept(m);

  const shuffled = new TestAggregate("t1");
  const reversed = [...messages].reverse();
  const accepted = [...reversed, ...messages, ...messages].map((m) => shuffled.accept(m));
  // Reversed: each driver's newest report arrives first, so its older one is stale.
  assert.deepEqual(accepted.slice(0, 6), [true, false, true, false, true, false]);
  assert.ok(accepted.slice(6).every((a) => a === false));
  assert.deepEqual(shuffled.overall(), inOrder.overall());
  for (const node of inOrder.nodes()) {
    assert.deepEqual(shuffled.driverStats(node), inOrder.driverStats(node));
  }
});

Deno.test("aggregate: another test's metrics are refused and a bad histogram throws", () => {
  const agg = new TestAggregate("t1");
  const other = new FakeDriver("one", "t2").record([1000]).report(1000);
  assert.equal(agg.accept(other), false);
  const bad = { ...new FakeDriver("one", "t1").record([1000]).report(1000), histogram: "@@" };
  assert.throws(() => agg.accept(bad), RangeError);
  assert.deepEqual(agg.nodes(), []);
});

Deno.test("aggregate: per-second series is exact per interval and merged across drivers", () => {
  const a = new FakeDriver("a", "t1");
  const b = new FakeDriver("b", "t1");
  const agg = new TestAggregate("t1");
  const s1a = latencies(7, 100, 1000, 100); // ~1 ms
  const s1b = latencies(8, 300, 9000, 100); // ~9 ms
  const s2a = latencies(9, 50, 50_000, 100); // ~50 ms
  agg.accept(a.record(s1a).report(1001));
  agg.accept(b.record(s1b).report(998));
  agg.accept(a.record(s2a).report(2003, true));
  agg.accept(b.report(1999, true)); // b idle in second 2
  const series = agg.series();
  assert.equal(series.overall.length, 2);
  const [p1, p2] = series.overall;
  assert.equal(p1!.responses, 400);
  assert.equal(p2!.responses, 50);
  const ref1 = createLatencyHistogram();
  for (const us of [...s1a, ...s1b]) recordMicros(ref1, us);
  assert.equal(p1!.p50, summarize(ref1).median);
  assert.equal(p1!.p99, summarize(ref1).p99);
  const ref2 = createLatencyHistogram();
  for (const us of s2a) recordMicros(ref2, us);
  assert.equal(p2!.p90, summarize(ref2).p90);
  assert.equal(series.drivers.b![1]!.responses, 0);
  assert.equal(series.drivers.b![1]!.p50, null);
  assert.equal(series.drivers.a![1]!.throughput, 50);
});

Deno.test("aggregate: a gap in reports files the whole interval under the later second", () => {
  const a = new FakeDriver("a", "t1");
  const agg = new TestAggregate("t1");
  agg.accept(a.record(latencies(1, 10, 1000, 10)).report(1000));
  a.record(latencies(2, 20, 1000, 10)).report(2000); // lost on the way
  agg.accept(a.record(latencies(3, 30, 1000, 10)).report(3000));
  const points = agg.series().overall.map((p) => p.responses);
  assert.deepEqual(points, [10, 0, 50]);
  assert.equal(agg.overall().responses, 60);
});
