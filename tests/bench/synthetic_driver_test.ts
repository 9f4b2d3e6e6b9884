import assert from "node:assert/strict";
import { SyntheticDriver } from "../../bench/synthetic_driver.ts";
import { decodeSparse, merge } from "../../shared/histogram.ts";
import { encodeMessage, type MetricsMessage, parseMessage } from "../../shared/messages.ts";

const options = { nodeId: "synthetic-001", instanceId: "run-1", testId: "t1", rate: 500, seed: 7 };

Deno.test("a synthetic driver's reports are valid metrics messages, in a driver's chain", () => {
  const driver = new SyntheticDriver(options);
  let previous = { requests: 0, responses: 0, errors: 0, report_id: 0, elapsed_ms: 0 };
  for (let second = 1; second <= 12; second++) {
    const message = driver.next(second === 12);
    const parsed = parseMessage("metrics", encodeMessage("metrics", { ...message, timestamp: 1 }));
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
    assert.equal(message.report_id, previous.report_id + 1);
    assert.equal(message.requests, previous.requests + 500, "one second at the rate");
    assert.equal(message.elapsed_ms, previous.elapsed_ms + 1000);
    // Cumulative: the first, the 11th (10 after it) and the final; the others continue.
    const cumulative = second === 1 || second === 11 || second === 12;
    assert.equal(message.histograms_since, cumulative ? undefined : previous.report_id);
    const ended = (m: typeof previous) => m.responses + m.errors;
    assert.equal(
      decodeSparse(message.histogram).total,
      ended(message) - (cumulative ? 0 : ended(previous)),
    );
    assert.equal(message.final, second === 12);
    previous = message;
  }
});

Deno.test("a synthetic driver has a real driver's variety: statuses, errors, a slow tail", () => {
  const message = (() => {
    const driver = new SyntheticDriver({ ...options, rate: 5000 });
    return driver.next();
  })();
  assert.ok(Object.keys(message.status_codes).length >= 3, JSON.stringify(message.status_codes));
  assert.ok(message.errors > 0 && Object.keys(message.error_kinds).length >= 2);
  assert.ok(message.metrics.p999_latency! > 5 * message.metrics.median_latency, "a slow tail");
  assert.ok(decodeSparse(message.lag_histogram!).total === message.requests);
});

Deno.test("the same seed gives the same reports; another seed, others", () => {
  const a = new SyntheticDriver(options).next();
  const b = new SyntheticDriver(options).next();
  const c = new SyntheticDriver({ ...options, seed: 8 }).next();
  assert.deepEqual(a, b);
  assert.notEqual(a.histogram, c.histogram);
});

Deno.test("an advanced synthetic driver sends the report it would have sent later", () => {
  const stepped = new SyntheticDriver(options);
  const sent = [1, 2, 3, 4].map(() => stepped.next());
  const aged = new SyntheticDriver(options);
  aged.advance(3);
  const report = aged.next();
  assert.equal(report.report_id, 4);
  assert.equal(report.requests, 4 * 500);
  // The same report, cumulative: its histograms are the stepped driver's added up.
  assert.equal(sent[3]!.histograms_since, 3);
  assert.equal(report.histograms_since, undefined);
  const strip = ({ histograms_since: _, ...rest }: MetricsMessage) => rest;
  const histograms = ["histogram", "failed_histogram", "service_histogram", "lag_histogram"];
  const counters = (m: MetricsMessage) =>
    Object.fromEntries(Object.entries(strip(m)).filter(([k]) => !histograms.includes(k)));
  assert.deepEqual(counters(report), counters(sent[3]!));
  for (const key of histograms as (keyof MetricsMessage & `${string}histogram`)[]) {
    const added = merge(sent.map((m) => decodeSparse(m[key]!)));
    assert.deepEqual(decodeSparse(report[key]!), added, key);
  }
});
