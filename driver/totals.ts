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
import { addCounts, addFields, REQUEST_COUNTERS } from "../shared/counts.ts";
import type { Snapshot } from "./worker_protocol.ts";

/** Everything a driver knows about one test so far: the workers' snapshots added up. */
export interface Totals extends Pick<Snapshot, typeof REQUEST_COUNTERS[number]> {
  errorKinds: Record<string, number>;
  statusCodes: Record<string, number>;
  /** Latency in µs of every request that ended, from the scheduled time when paced. */
  histogram: Histogram;
  /** Latency in µs of the requests that failed: errors and unexpected statuses. */
  failedHistogram: Histogram;
  /** Service time in µs, from the write of the request to its response. */
  serviceHistogram: Histogram;
  /** Send lag in µs of paced requests (sent − scheduled). */
  lagHistogram: Histogram;
}

/** Empty totals. */
export function createTotals(): Totals {
  return {
    requests: 0,
    responses: 0,
    errors: 0,
    late: 0,
    dropped: 0,
    queued: 0,
    errorKinds: {},
    statusCodes: {},
    histogram: createLatencyHistogram(),
    failedHistogram: createLatencyHistogram(),
    serviceHistogram: createLatencyHistogram(),
    lagHistogram: createLatencyHistogram(),
  };
}

/** Adds one worker's delta snapshot to `totals`; throws RangeError on a corrupt histogram. */
export function addSnapshot(totals: Totals, snapshot: Snapshot): void {
  const histograms = [
    decodeHistogram(snapshot.histogram),
    decodeHistogram(snapshot.failedHistogram),
    decodeHistogram(snapshot.serviceHistogram),
    decodeHistogram(snapshot.lagHistogram),
  ] as const;
  addFields(totals, snapshot, REQUEST_COUNTERS);
  addCounts(totals.errorKinds, snapshot.errorKinds);
  addCounts(totals.statusCodes, snapshot.statusCodes);
  mergeInto(totals.histogram, histograms[0]);
  mergeInto(totals.failedHistogram, histograms[1]);
  mergeInto(totals.serviceHistogram, histograms[2]);
  mergeInto(totals.lagHistogram, histograms[3]);
}
