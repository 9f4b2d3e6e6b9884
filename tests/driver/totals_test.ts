import assert from "node:assert/strict";
import { Recorder } from "../../driver/recorder.ts";
import { addSnapshot, createTotals } from "../../driver/totals.ts";
import { createLatencyHistogram, recordMicros, summarize } from "../../shared/histogram.ts";

Deno.test("merging workers' delta snapshots equals the histogram of all samples", () => {
  // A fixed pseudo-random spread of latencies from 1 µs to ~10 s over three workers and four
  // snapshots each, with errors and status codes mixed in.
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const all = createLatencyHistogram();
  const allService = createLatencyHistogram();
  const recorders = [new Recorder(), new Recorder(), new Recorder()];
  const totals = createTotals();
  let responses = 0;
  let errors = 0;
  for (let round = 0; round < 4; round++) {
    for (const rec of recorders) {
      for (let k = 0; k < 2500; k++) {
        rec.requests++;
        if (random() < 0.05) {
          rec.error(random() < 0.5 ? "timeout" : "reset");
          errors++;
          continue;
        }
        const latency = Math.exp(random() * Math.log(1e7));
        const service = latency * random();
        rec.response(random() < 0.9 ? 200 : 503, latency, service);
        recordMicros(all, latency);
        recordMicros(allService, service);
        responses++;
      }
      addSnapshot(totals, rec.take(round === 3));
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
  for (const p of [0, 1, 10, 50, 75, 90, 99, 99.9, 99.99, 100]) {
    assert.equal(totals.histogram.getValueAtPercentile(p), all.getValueAtPercentile(p), `p${p}`);
  }
});

Deno.test("Recorder.take() starts a fresh interval with the next sequence number", () => {
  const rec = new Recorder();
  rec.requests = 2;
  rec.response(204, 100, 50);
  rec.error("malformed");
  rec.late = 1;
  const first = rec.take(false);
  assert.deepEqual(
    { ...first, histogram: undefined, serviceHistogram: undefined },
    {
      seq: 1,
      final: false,
      requests: 2,
      responses: 1,
      errors: 1,
      late: 1,
      errorKinds: { malformed: 1 },
      statusCodes: { "204": 1 },
      histogram: undefined,
      serviceHistogram: undefined,
    },
  );
  const second = rec.take(true);
  assert.equal(second.seq, 2);
  assert.equal(second.final, true);
  assert.equal(second.requests + second.responses + second.errors + second.late, 0);
  assert.deepEqual(second.statusCodes, {});
});
