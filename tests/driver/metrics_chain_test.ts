import assert from "node:assert/strict";
import { type ChainedReport, MetricsChain } from "../../driver/metrics_chain.ts";
import type { PoolReport } from "../../driver/pool.ts";
import {
  addHistograms,
  createHistogramSet,
  createTotals,
  resetHistograms,
} from "../../driver/totals.ts";
import { decodeSparse, merge, recordMicros, sparseOf } from "../../shared/histogram.ts";
import { encodeMessage, type MetricsMessage, parseMessage } from "../../shared/messages.ts";

/** A pool's reports: each interval's requests recorded into the totals and the interval. */
function pool() {
  const totals = createTotals();
  const interval = createHistogramSet();
  let n = 0;
  return {
    totals,
    /** The next report, with `count` responses of distinct latencies in its interval. */
    report(count: number, final = false): PoolReport {
      resetHistograms(interval);
      const added = createHistogramSet();
      for (let i = 0; i < count; i++) recordMicros(added.histogram, 100 + 37 * n++);
      addHistograms(interval, added);
      addHistograms(totals, added);
      totals.requests += count;
      totals.responses += count;
      totals.statusCodes["200"] = totals.responses;
      return {
        ...totals,
        statusCodes: { ...totals.statusCodes },
        interval,
        elapsedMs: n,
        intervalRps: count,
        unfinished: 0,
        final,
      };
    },
  };
}

const driver = { nodeId: "d1", instanceId: "run-1" };

/** Renders and settles `report`, checking the message is valid on the wire. */
function send(chain: MetricsChain, report: ChainedReport, delivered = true): MetricsMessage {
  const message = chain.render(report);
  const parsed = parseMessage("metrics", encodeMessage("metrics", message));
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  chain.settled(report, delivered);
  return message;
}

/** One report added, then published (D: delivered, F: failed) or replaced by the next (-). */
type Step = { add: number; publish: "D" | "F" | "-"; final?: boolean };

const table: [string, Step[], (number | undefined)[]][] = [
  [
    "every publish delivered: the first, the 11th and the final are cumulative",
    Array.from({ length: 13 }, (_, i) => ({ add: 1, publish: "D", final: i === 12 })),
    [undefined, 1, 2, 3, 4, 5, 6, 7, 8, 9, undefined, 11, undefined],
  ],
  [
    "after a failed publish the next is cumulative",
    [
      { add: 1, publish: "D" },
      { add: 1, publish: "D" },
      { add: 1, publish: "F" },
      { add: 1, publish: "D" },
      { add: 1, publish: "D" },
    ],
    [undefined, 1, 2, undefined, 4],
  ],
  [
    "reports replaced before they were sent are carried by the next one",
    [
      { add: 1, publish: "D" },
      { add: 1, publish: "-" },
      { add: 1, publish: "-" },
      { add: 1, publish: "D" },
      { add: 1, publish: "D" },
    ],
    [undefined, 1, 4],
  ],
];

for (const [name, steps, expected] of table) {
  Deno.test(`metrics chain: ${name}`, () => {
    const chain = new MetricsChain(driver, "t1");
    const p = pool();
    const sent: MetricsMessage[] = [];
    for (const step of steps) {
      const report = chain.add(p.report(5, step.final), 1_700_000_000_000);
      if (step.publish !== "-") sent.push(send(chain, report, step.publish === "D"));
    }
    assert.deepEqual(sent.map((m) => m.histograms_since), expected);
    // What a receiver adds up from a cumulative one on is exactly the driver's histogram.
    const last = sent.findLastIndex((m) => m.histograms_since === undefined);
    const added = merge(sent.slice(last).map((m) => decodeSparse(m.histogram)));
    assert.equal(added.total, sent.at(-1)!.responses);
    assert.deepEqual(added, sparseOf(p.totals.histogram));
  });
}

Deno.test("metrics chain: a failed message sent again is cumulative and counts nothing twice", () => {
  const chain = new MetricsChain(driver, "t1");
  const p = pool();
  send(chain, chain.add(p.report(3), 0));
  const second = chain.add(p.report(4), 0);
  assert.equal(send(chain, second, false).histograms_since, 1);
  const again = send(chain, second);
  assert.equal(again.histograms_since, undefined);
  assert.equal(decodeSparse(again.histogram).total, 7);
  assert.deepEqual(decodeSparse(again.histogram), sparseOf(p.totals.histogram));
  const third = send(chain, chain.add(p.report(2), 0));
  assert.equal(third.histograms_since, 2);
  assert.equal(decodeSparse(third.histogram).total, 2);
});

Deno.test("metrics chain: the seed's latency summary is the cumulative one", () => {
  const chain = new MetricsChain(driver, "t1");
  const p = pool();
  send(chain, chain.add(p.report(10), 0));
  const continuing = send(chain, chain.add(p.report(10), 0));
  assert.equal(continuing.histograms_since, 1);
  assert.equal(continuing.metrics.min_latency, 0.1, "the first interval's minimum");
});

Deno.test("metrics chain: only the newest report may be rendered", () => {
  const chain = new MetricsChain(driver, "t1");
  const p = pool();
  const first = chain.add(p.report(1), 0);
  chain.add(p.report(1), 0);
  assert.throws(() => chain.render(first), /report 1 rendered after report 2/);
});

Deno.test("metrics chain: a shorter cycle sends a cumulative message more often", () => {
  const chain = new MetricsChain(driver, "t1", 3);
  const p = pool();
  const since = Array.from({ length: 7 }, () => send(chain, chain.add(p.report(1), 0)))
    .map((m) => m.histograms_since);
  assert.deepEqual(since, [undefined, 1, 2, undefined, 4, 5, undefined]);
});
