/**
 * The per-second time series of a test, overall and per driver, built exactly from cumulative
 * snapshots: each accepted snapshot minus the driver's previous one is that report interval's
 * own histogram and counts. Seconds are wall-clock seconds since the trigger: second t covers
 * [t − 1, t) s. A report interval is placed where it really was (the driver's start offset plus
 * its elapsed times) and its counts are spread over the seconds it covers in proportion to the
 * overlap, exactly (the parts add back up to the interval's counts); its latency histogram joins
 * every second it covers. So a report interval longer than a second, or a lost report whose
 * successor covers two intervals, gives an even line instead of a spike next to a zero. A
 * second's overall latency percentiles come from merging the drivers' interval histograms of
 * that second, never from averaging percentiles.
 *
 * An interval's histogram is kept once, packed (its non-empty buckets, about 2 bytes each: a
 * busy driver's one-second interval has several hundred), and shared by every second it covers. Nothing is derived when an interval arrives: a
 * second's point, a driver's or the overall one, is computed when the series is read and cached
 * until another interval lands in that second.
 */
import type { SeriesPoint, TimeSeries } from "../shared/api.ts";
import {
  merge,
  pack,
  type PackedHistogram,
  type SparseHistogram,
  summarize,
  unpack,
} from "../shared/histogram.ts";

/** The series of one test: the API's {@link TimeSeries} less the `test_id` it is filed under. */
export type Series = Omit<TimeSeries, "test_id">;

/** The counters of a cumulative snapshot that the series follows. */
export interface SeriesCounts {
  requests: number;
  responses: number;
  errors: number;
}

interface Bucket extends SeriesCounts {
  /** The histograms of the report intervals that cover this driver's second. */
  histograms: PackedHistogram[];
  /** Derived from the above when read; undefined until then, and after another interval. */
  point?: SeriesPoint;
}

/**
 * The longest span one report interval may be spread over: the longest test (`duration_s` ≤ one
 * day) plus an hour of slack. A report claiming more is not placed in the series at all.
 */
export const MAX_SERIES_SECONDS = 86_400 + 3_600;

/**
 * How an interval [fromMs, toMs) after the trigger spreads `total` over seconds: [second, share]
 * pairs whose shares add up to `total` exactly. A zero-length interval goes to the second it is
 * in.
 */
export function spread(fromMs: number, toMs: number, total: number): [number, number][] {
  const first = Math.floor(fromMs / 1000) + 1;
  if (!(toMs > fromMs)) return [[first, total]];
  const last = Math.floor((toMs - 1e-9) / 1000) + 1;
  const out: [number, number][] = [];
  let given = 0;
  for (let t = first; t <= last; t++) {
    const upTo = Math.min(toMs, t * 1000);
    const share = Math.round(total * (upTo - fromMs) / (toMs - fromMs)) - given;
    given += share;
    out.push([t, share]);
  }
  return out;
}

function point(t: number, counts: SeriesCounts, histogram: SparseHistogram): SeriesPoint {
  const empty = histogram.total === 0;
  const stats = summarize(histogram);
  return {
    t,
    requests: counts.requests,
    responses: counts.responses,
    errors: counts.errors,
    throughput: counts.responses,
    p50: empty ? null : stats.median,
    p90: empty ? null : stats.p90,
    p99: empty ? null : stats.p99,
  };
}

function emptyPoint(t: number): SeriesPoint {
  return {
    t,
    requests: 0,
    responses: 0,
    errors: 0,
    throughput: 0,
    p50: null,
    p90: null,
    p99: null,
  };
}

/** Fills the seconds without data with zero points so charts get a regular axis. */
function dense(points: Map<number, SeriesPoint>): SeriesPoint[] {
  const last = Math.max(0, ...points.keys());
  const out: SeriesPoint[] = [];
  for (let t = 1; t <= last; t++) out.push(points.get(t) ?? emptyPoint(t));
  return out;
}

/**
 * What changed between two cumulative counts of one driver, or undefined when `current` is not
 * a superset of `previous` (a driver that restarted its counters).
 */
export function countsBetween(
  previous: SeriesCounts,
  current: SeriesCounts,
): SeriesCounts | undefined {
  const counts = {
    requests: current.requests - previous.requests,
    responses: current.responses - previous.responses,
    errors: current.errors - previous.errors,
  };
  if (counts.requests < 0 || counts.responses < 0 || counts.errors < 0) return undefined;
  return counts;
}

/** Accumulates report intervals into per-second points. */
export class SeriesBuilder {
  #drivers = new Map<string, Map<number, Bucket>>();
  #overall = new Map<number, SeriesPoint>();

  /** Files one driver's report interval, [fromMs, toMs) after the trigger. */
  add(
    nodeId: string,
    fromMs: number,
    toMs: number,
    counts: SeriesCounts,
    histogram: SparseHistogram,
  ): void {
    if (!(fromMs >= 0) || !(toMs - fromMs <= MAX_SERIES_SECONDS * 1000)) return;
    const packed = pack(histogram);
    const requests = spread(fromMs, toMs, counts.requests);
    const responses = spread(fromMs, toMs, counts.responses);
    const errors = spread(fromMs, toMs, counts.errors);
    requests.forEach(([t, n], i) => {
      const share = { requests: n, responses: responses[i]![1], errors: errors[i]![1] };
      // A second that gets nothing of the interval's counts gets none of its latency either.
      if (requests.length > 1 && share.requests + share.responses + share.errors === 0) return;
      this.#addToSecond(nodeId, t, share, packed);
    });
  }

  #addToSecond(
    nodeId: string,
    t: number,
    counts: SeriesCounts,
    histogram: PackedHistogram,
  ): void {
    let buckets = this.#drivers.get(nodeId);
    if (!buckets) {
      buckets = new Map();
      this.#drivers.set(nodeId, buckets);
    }
    const bucket = buckets.get(t);
    if (bucket) {
      // Two report intervals in one second: the second holds both.
      bucket.requests += counts.requests;
      bucket.responses += counts.responses;
      bucket.errors += counts.errors;
      bucket.histograms.push(histogram);
      bucket.point = undefined;
    } else {
      buckets.set(t, { ...counts, histograms: [histogram] });
    }
    this.#overall.delete(t);
  }

  #point(t: number, bucket: Bucket): SeriesPoint {
    return bucket.point ??= point(t, bucket, merge(bucket.histograms.map(unpack)));
  }

  #overallPoint(t: number): SeriesPoint {
    const cached = this.#overall.get(t);
    if (cached) return cached;
    const histograms: PackedHistogram[] = [];
    const counts: SeriesCounts = { requests: 0, responses: 0, errors: 0 };
    for (const buckets of this.#drivers.values()) {
      const bucket = buckets.get(t);
      if (!bucket) continue;
      histograms.push(...bucket.histograms);
      counts.requests += bucket.requests;
      counts.responses += bucket.responses;
      counts.errors += bucket.errors;
    }
    const result = point(t, counts, merge(histograms.map(unpack)));
    this.#overall.set(t, result);
    return result;
  }

  /** The series so far: every second from 1 to the last with data, zero-filled. */
  build(): Series {
    const drivers: Record<string, SeriesPoint[]> = {};
    const seconds = new Set<number>();
    for (const [nodeId, buckets] of [...this.#drivers].sort(([a], [b]) => a < b ? -1 : 1)) {
      drivers[nodeId] = dense(new Map([...buckets].map(([t, b]) => [t, this.#point(t, b)])));
      for (const t of buckets.keys()) seconds.add(t);
    }
    const overall = dense(new Map([...seconds].map((t) => [t, this.#overallPoint(t)])));
    return { interval_s: 1, overall, drivers };
  }
}
