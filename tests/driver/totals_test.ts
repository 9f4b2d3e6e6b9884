import assert from "node:assert/strict";
import { Recorder } from "../../driver/recorder.ts";
import { addSnapshot, createTotals } from "../../driver/totals.ts";
import {
  createLatencyHistogram,
  decodeHistogram,
  decodeSparse,
  recordMicros,
  sparseOf,
  summarize,
  withoutFailed,
} from "../../shared/histogram.ts";

Deno.test("merging workers' delta snapshots equals the histogram of all samples", () => {
  // A fixed pseudo-random spread of latencies from 1 µs to ~10 s over three workers and four
  // snapshots each, with errors and status codes mixed in.
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const all = createLatencyHistogram();
  const allOk = createLatencyHistogram();
  const allService = createLatencyHistogram();
  const recorders = [new Recorder(true), new Recorder(true), new Recorder(true)];
  const totals = createTotals();
  let responses = 0;
  let errors = 0;
  for (let round = 0; round < 4; round++) {
    for (const rec of recorders) {
      for (let k = 0; k < 2500; k++) {
        rec.requests++;
        const latency = Math.exp(random() * Math.log(1e7));
        recordMicros(all, latency);
        if (random() < 0.05) {
          rec.error(random() < 0.5 ? "timeout" : "reset", latency);
          errors++;
          continue;
        }
        const service = latency * random();
        const status = random() < 0.9 ? 200 : 503;
        rec.response(status, latency, service);
        if (status === 200) recordMicros(allOk, latency);
        recordMicros(allService, service);
        responses++;
      }
      addSnapshot(totals, rec.snapshot(round === 3));
    }
  }
  assert.equal(totals.requests, 30_000);
  assert.equal(totals.responses, responses);
  assert.equal(totals.errors, errors);
  assert.equal(totals.errorKinds.timeout! + totals.errorKinds.reset!, errors);
  assert.equal(totals.statusCodes["200"]! + totals.statusCodes["503"]!, responses);
  assert.equal(totals.histogram.totalCount, all.totalCount);
  assert.deepEqual(summarize(totals.histogram), summarize(all));
  assert.deepEqual(summarize(totals.serviceHistogram), summarize(allService));
  assert.deepEqual(
    summarize(withoutFailed(sparseOf(totals.histogram), sparseOf(totals.failedHistogram))),
    summarize(allOk),
  );
  assert.equal(totals.histogram.totalCount, responses + errors, "errors have a latency too");
  for (const p of [0, 1, 10, 50, 75, 90, 99, 99.9, 99.99, 100]) {
    assert.equal(totals.histogram.getValueAtPercentile(p), all.getValueAtPercentile(p), `p${p}`);
  }
});

Deno.test("Recorder.snapshot() starts a fresh interval with the next sequence number", () => {
  const rec = new Recorder(true);
  rec.requests = 2;
  rec.response(204, 100, 50);
  rec.error("malformed", 3000);
  rec.sent(2500, true);
  rec.dropped = 4;
  rec.queued = 3;
  const first = rec.snapshot(false);
  const decoded = (h: string) => summarize(decodeHistogram(h));
  assert.deepEqual(
    {
      ...first,
      histogram: decoded(first.histogram).count,
      failedHistogram: decoded(first.failedHistogram).count,
      serviceHistogram: decoded(first.serviceHistogram).max,
      lagHistogram: decoded(first.lagHistogram).max,
    },
    {
      seq: 1,
      final: false,
      requests: 2,
      responses: 1,
      errors: 1,
      late: 1,
      dropped: 4,
      queued: 3,
      errorKinds: { malformed: 1 },
      statusCodes: { "204": 1 },
      histogram: 2,
      failedHistogram: 1,
      serviceHistogram: 0.05,
      lagHistogram: 2.501,
    },
  );
  const second = rec.snapshot(true);
  assert.equal(second.seq, 2);
  assert.equal(second.final, true);
  assert.equal(
    second.requests + second.responses + second.errors + second.late + second.dropped +
      second.queued,
    0,
  );
  assert.equal(decodeHistogram(second.histogram).totalCount, 0);
  assert.deepEqual(second.statusCodes, {});
});

Deno.test("the errors and the unexpected statuses enter the failed histogram", () => {
  // Expected statuses, statuses answered, how many of them failed (plus the one error).
  const table: [number[] | undefined, number[], number][] = [
    [undefined, [200, 204, 301, 399, 400, 404, 503], 3],
    [[200], [200, 204, 503], 2],
    [[404, 503], [200, 404, 503, 503], 1],
  ];
  for (const [expected, statuses, failed] of table) {
    const rec = new Recorder(false, expected);
    // Failures at 5 ms, expected answers at 1 ms: the difference must keep only the 1 ms ones.
    for (const status of statuses) {
      const ok = (expected ?? [200, 204, 301, 399]).includes(status);
      rec.response(status, ok ? 1000 : 5000, 1000);
    }
    rec.error("timeout", 5000);
    const s = rec.snapshot(true);
    const what = JSON.stringify(expected);
    assert.equal(decodeHistogram(s.failedHistogram).totalCount, failed + 1, what);
    assert.equal(decodeHistogram(s.histogram).totalCount, statuses.length + 1);
    const ok = summarize(withoutFailed(decodeSparse(s.histogram), decodeSparse(s.failedHistogram)));
    assert.equal(ok.count, statuses.length - failed, what);
    assert.equal(ok.max, 1, what);
  }
});
