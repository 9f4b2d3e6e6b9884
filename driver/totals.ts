/**
 * The driver's cumulative state for one test, built on the main thread by adding up the workers'
 * delta snapshots: counters are summed, histograms merged (never percentiles averaged). The
 * histograms of one report interval are kept the same way, for metrics that continue from the
 * previous report (metrics_chain.ts).
 */
import {
  createLatencyHistogram,
  decodeHistogram,
  type Histogram,
  mergeInto,
} from "../shared/histogram.ts";
import { addCounts, addFields, REQUEST_COUNTERS } from "../shared/counts.ts";
import type { Snapshot } from "./worker_protocol.ts";

/** The four latency histograms of a test so far, or of the requests of one report interval. */
export interface HistogramSet {
  /** Latency in µs of every request that ended, from the scheduled time when paced. */
  histogram: Histogram;
  /** Latency in µs of the requests that failed: errors and unexpected statuses. */
  failedHistogram: Histogram;
  /** Service time in µs, from the write of the request to its response. */
  serviceHistogram: Histogram;
  /** Send lag in µs of paced requests (sent − scheduled). */
  lagHistogram: Histogram;
}

/** Everything a driver knows about one test so far: the workers' snapshots added up. */
export interface Totals extends Pick<Snapshot, typeof REQUEST_COUNTERS[number]>, HistogramSet {
  errorKinds: Record<string, number>;
  statusCodes: Record<string, number>;
}

const SET_KEYS = ["histogram", "failedHistogram", "serviceHistogram", "lagHistogram"] as const;

/** Four empty histograms. */
export function createHistogramSet(): HistogramSet {
  return {
    histogram: createLatencyHistogram(),
    failedHistogram: createLatencyHistogram(),
    serviceHistogram: createLatencyHistogram(),
    lagHistogram: createLatencyHistogram(),
  };
}

/** Adds every histogram of `source` to the same one of `target`. */
export function addHistograms(target: HistogramSet, source: HistogramSet): void {
  for (const key of SET_KEYS) mergeInto(target[key], source[key]);
}

/** Empties every histogram of `set`, keeping their memory. */
export function resetHistograms(set: HistogramSet): void {
  for (const key of SET_KEYS) set[key].reset();
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
    ...createHistogramSet(),
  };
}

/**
 * Adds one worker's delta snapshot to `totals`, and its histograms to `interval` too (the
 * requests of the report interval being filled); throws RangeError on a corrupt histogram.
 */
export function addSnapshot(totals: Totals, snapshot: Snapshot, interval?: HistogramSet): void {
  const histograms: HistogramSet = {
    histogram: decodeHistogram(snapshot.histogram),
    failedHistogram: decodeHistogram(snapshot.failedHistogram),
    serviceHistogram: decodeHistogram(snapshot.serviceHistogram),
    lagHistogram: decodeHistogram(snapshot.lagHistogram),
  };
  addFields(totals, snapshot, REQUEST_COUNTERS);
  addCounts(totals.errorKinds, snapshot.errorKinds);
  addCounts(totals.statusCodes, snapshot.statusCodes);
  addHistograms(totals, histograms);
  if (interval !== undefined) addHistograms(interval, histograms);
}
