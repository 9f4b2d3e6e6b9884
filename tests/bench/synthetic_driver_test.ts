import assert from "node:assert/strict";
import { SyntheticDriver } from "../../bench/synthetic_driver.ts";
import { decodeSparse } from "../../shared/histogram.ts";
import { encodeMessage, parseMessage } from "../../shared/messages.ts";

const options = { nodeId: "synthetic-001", instanceId: "run-1", testId: "t1", rate: 500, seed: 7 };

Deno.test("a synthetic driver's reports are valid, cumulative metrics messages", () => {
  const driver = new SyntheticDriver(options);
  let previous = { requests: 0, report_id: 0, elapsed_ms: 0 };
  for (let second = 1; second <= 5; second++) {
    const message = driver.next(second === 5);
    const parsed = parseMessage("metrics", encodeMessage("metrics", { ...message, timestamp: 1 }));
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
    assert.equal(message.report_id, previous.report_id + 1);
    assert.equal(message.requests, previous.requests + 500, "one second at the rate");
    assert.equal(message.elapsed_ms, previous.elapsed_ms + 1000);
    assert.equal(decodeSparse(message.histogram).total, message.responses + message.errors);
    assert.equal(message.final, second === 5);
    previous = message;
  }
});

Deno.test("a synthetic driver has a real driver's variety: statuses, errors, a slow tail", () => {
  const message = (() => {
    const driver = new SyntheticDriver({ ...options, rate: 5000 });
    driver.next();
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
  for (let second = 1; second <= 3; second++) stepped.next();
  const aged = new SyntheticDriver(options);
  aged.advance(3);
  const report = aged.next();
  assert.deepEqual(report, stepped.next());
  assert.equal(report.report_id, 4);
  assert.equal(report.requests, 4 * 500);
});
