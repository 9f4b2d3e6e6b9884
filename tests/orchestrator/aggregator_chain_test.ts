/**
 * Reports whose histograms continue from the driver's previous report (`histograms_since`): the
 * aggregate they give is the one cumulative reports of the same requests give, and one that does
 * not continue from the report taken last changes nothing.
 */
import assert from "node:assert/strict";
import { TestAggregate } from "../../orchestrator/aggregator.ts";
import { encodeHistogram } from "../../shared/histogram.ts";
import type { MetricsMessage } from "../../shared/messages.ts";
import { FakeDriver, latencies } from "./fake_driver.ts";

const T0 = 1_700_000_000_000;
const context = () => ({ rate: null, connections: 10, triggeredAt: T0 });
const all = () => true;

/** Two identical drivers' reports: one cumulative throughout, one continuing where it can. */
function twins(node: string) {
  const cumulative = new FakeDriver(node, "t1");
  const chained = new FakeDriver(node, "t1");
  return {
    record(samples: number[], errors = 0) {
      cumulative.record(samples, errors, 3_000_000);
      chained.record(samples, errors, 3_000_000);
    },
    /** The next report of each; `continuing`: the chained twin's continues from its previous. */
    report(
      elapsedMs: number,
      continuing: boolean,
      final = false,
    ): [MetricsMessage, MetricsMessage] {
      return [
        cumulative.report(elapsedMs, final),
        continuing ? chained.continuing(elapsedMs) : chained.report(elapsedMs, final),
      ];
    },
  };
}

/** Every figure an aggregate derives. */
function figures(agg: TestAggregate) {
  return {
    overall: agg.overall(all),
    drivers: agg.nodes().map((n) => agg.driverStats(n, true)),
    series: agg.series(),
  };
}

Deno.test("continuing reports give exactly the figures cumulative ones give, at every report", () => {
  const a = twins("a");
  const b = twins("b");
  const byCumulative = new TestAggregate("t1", context);
  const byChain = new TestAggregate("t1", context);
  // 25 reports each: past the 16 continuing reports a driver's state holds before adding them.
  for (let k = 1; k <= 25; k++) {
    a.record(latencies(k, 200, 500 + 40 * k, 3000), k % 4 === 0 ? 2 : 0);
    b.record(latencies(100 + k, 50, 20_000, 90_000 * (k % 3 + 1)));
    const final = k === 25;
    // b sends a cumulative report every 7th, as a driver does every 10th.
    const pairs = [
      a.report(k * 1000, k > 1 && !final, final),
      b.report(k * 1000, k % 7 !== 1 && !final, final),
    ];
    for (const [cumulative, chained] of pairs) {
      assert.equal(byCumulative.accept(cumulative, cumulative.timestamp), "accepted");
      assert.equal(byChain.accept(chained, chained.timestamp), "accepted");
    }
    // Read every other report only: continuing ones then pile up between reads.
    if (k % 2 === 0 || final) {
      assert.deepEqual(figures(byChain), figures(byCumulative), `report ${k}`);
    }
  }
  assert.equal(byChain.overall(all).errors, 12);
});

Deno.test("a report continuing from one that was not taken changes nothing until a cumulative one", () => {
  const d = new FakeDriver("a", "t1");
  const agg = new TestAggregate("t1", context);
  d.record(latencies(1, 100, 1000, 100));
  const first = d.report(1000);
  d.record(latencies(2, 100, 1000, 100));
  d.continuing(2000); // report 1: lost on the way
  d.record(latencies(3, 100, 1000, 100));
  const third = d.continuing(3000); // continues from report 1
  assert.equal(agg.accept(third, third.timestamp), "unchained", "nothing taken yet");
  assert.equal(agg.accept(first, first.timestamp), "accepted");
  const before = figures(agg);
  assert.equal(agg.accept(third, third.timestamp), "unchained");
  assert.deepEqual(figures(agg), before);
  d.record(latencies(4, 100, 1000, 100));
  const fourth = d.report(4000);
  assert.equal(agg.accept(fourth, fourth.timestamp), "accepted");
  d.record(latencies(5, 100, 1000, 100));
  const fifth = d.continuing(5000);
  assert.equal(agg.accept(fifth, fifth.timestamp), "accepted");
  assert.equal(agg.overall(all).responses, 500);
  assert.equal(agg.driverStats("a", true)?.latency_ms.max, d.report(5000).metrics.max_latency);
  assert.equal(agg.accept(fifth, fifth.timestamp), "stale", "a duplicate");
});

Deno.test("a continuing report whose histograms disagree with its counters is refused", () => {
  const d = new FakeDriver("a", "t1");
  const agg = new TestAggregate("t1", context);
  d.record(latencies(1, 100, 1000, 100));
  const first = d.report(1000);
  agg.accept(first, first.timestamp);
  d.record(latencies(2, 100, 1000, 100), 3);
  const second = d.continuing(2000);
  const cases: [string, Partial<MetricsMessage>, RegExp][] = [
    [
      "cumulative histogram",
      { histogram: encodeHistogram(d.histogram) },
      /holds 203 latencies for 103/,
    ],
    [
      "fewer failures than errors",
      { failed_histogram: first.failed_histogram },
      /fewer than the 3/,
    ],
  ];
  for (const [what, change, error] of cases) {
    assert.throws(() => agg.accept({ ...second, ...change }, second.timestamp), error, what);
  }
  assert.equal(agg.accept(second, second.timestamp), "accepted");
  assert.equal(agg.overall(all).errors, 3);
});
