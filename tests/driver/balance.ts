/** Assertions every engine test shares. */
import assert from "node:assert/strict";
import type { PoolReport } from "../../driver/pool.ts";
import { type SparseHistogram, sparseOf, withoutFailed } from "../../shared/histogram.ts";

/** The latencies of the responses with an expected status: every request's minus the failed. */
export function okLatencies(r: PoolReport): SparseHistogram {
  return withoutFailed(sparseOf(r.histogram), sparseOf(r.failedHistogram));
}

/** Every request ended exactly once, as a response or as an error, and has a latency. */
export function assertBalanced(r: PoolReport): void {
  assert.equal(r.error, undefined);
  assert.equal(r.unfinished, 0);
  assert.equal(r.requests, r.responses + r.errors, JSON.stringify(r.errorKinds));
  assert.equal(r.histogram.totalCount, r.requests);
  assert.equal(r.serviceHistogram.totalCount, r.responses);
  // Every error failed; a response failed when its status was not an expected one.
  assert.ok(r.failedHistogram.totalCount >= r.errors);
  assert.ok(okLatencies(r).total <= r.responses);
  const statusTotal = Object.values(r.statusCodes).reduce((a, b) => a + b, 0);
  assert.equal(statusTotal, r.responses);
  const errorTotal = Object.values(r.errorKinds).reduce((a, b) => a + b, 0);
  assert.equal(errorTotal, r.errors);
}
