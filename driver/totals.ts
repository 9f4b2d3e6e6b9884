/**
 * The driver's cumulative state for one test, built on the main thread by adding up the workers'
 * delta snapshots: counters are summed, histograms merged (never percentiles averaged).
 */
import {
  createLatencyHistogram,
  decodeHistogram,
  type Histogram,
  mergeInto,
} from "../shared/histogram.ts";
import type { Snapshot } from "./worker_protocol.ts";

/** Everything a driver knows about one test so far. */
export interface Totals {
  requests: number;
  responses: number;
  errors: number;
  late: number;
  errorKinds: Record<string, number>;
  statusCodes: Record<string, number>;
  /** Latency in µs, from the scheduled time when the test is paced. */
  histogram: Histogram;
  /** Service time in µs, from the write of the request to its response. */
  serviceHistogram: Histogram;
}

/** Empty totals. */
export function createTotals(): Totals {
  return {
    requests: 0,
    responses: 0,
    errors: 0,
    late: 0,
    errorKinds: {},
    statusCodes: {},
    histogram: createLatencyHistogram(),
    serviceHistogram: createLatencyHistogram(),
  };
}

function addCounts(target: Record<string, number>, delta: Record<string, number | undefined>) {
  for (const [key, n] of Object.entries(delta)) {
    if (n) target[key] = (target[key] ?? 0) + n;
  }
}

/** Adds one worker's delta snapshot to `totals`; throws RangeError on a corrupt histogram. */
export function addSnapshot(totals: Totals, snapshot: Snapshot): void {
  const histogram = decodeHistogram(snapshot.histogram);
  const service = decodeHistogram(snapshot.serviceHistogram);
  totals.requests += snapshot.requests;
  totals.responses += snapshot.responses;
  totals.errors += snapshot.errors;
  totals.late += snapshot.late;
  addCounts(totals.errorKinds, snapshot.errorKinds);
  addCounts(totals.statusCodes, snapshot.statusCodes);
  mergeInto(totals.histogram, histogram);
  mergeInto(totals.serviceHistogram, service);
}
