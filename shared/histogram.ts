/**
 * The one module that owns latency histograms. Every histogram in surge comes from
 * {@link createLatencyHistogram}, so they all share one precision and can be merged exactly.
 * Values are integer microseconds. Percentiles are only ever derived from a (merged) histogram,
 * never averaged across drivers or workers.
 */
import {
  buildHistogram,
  HIGHEST_US,
  type Histogram,
  internals,
  LENGTH,
  LOWEST_US,
} from "./histogram_layout.ts";
import { describe, difference, type SparseHistogram, sparseOf } from "./sparse_histogram.ts";

export type { Histogram } from "./histogram_layout.ts";
export {
  decodeHistogram,
  decodeSparse,
  encodeHistogram,
  MAX_ENCODED_HISTOGRAM_CHARS,
} from "./histogram_codec.ts";
export {
  denseOf,
  difference,
  differenceFromParts,
  EMPTY_SPARSE,
  isWithin,
  merge,
  pack,
  type PackedHistogram,
  type SparseHistogram,
  sparseOf,
  unpack,
} from "./sparse_histogram.ts";

/**
 * The latencies of `all` that are not in `failed`: those of the requests that got an expected
 * status, exactly, from every request's histogram and the failed requests' one. RangeError when
 * `failed` holds a latency that `all` lacks (the two cannot come from one set of requests).
 */
export function withoutFailed(all: SparseHistogram, failed: SparseHistogram): SparseHistogram {
  const ok = difference(all, failed);
  if (!ok) throw new RangeError("the failed histogram holds latencies the histogram lacks");
  return ok;
}

/** A fresh, empty latency histogram in microseconds. */
export function createLatencyHistogram(): Histogram {
  return buildHistogram();
}

/** Records one latency; values outside the trackable range are clamped, never dropped. */
export function recordMicros(histogram: Histogram, micros: number): void {
  const value = micros < LOWEST_US
    ? LOWEST_US
    : micros > HIGHEST_US
    ? HIGHEST_US
    : Math.round(micros);
  histogram.recordValue(value);
}

/**
 * Adds every sample of `source` to `target`, as hdr-histogram-js's `add` does (total, min and
 * max follow), in one pass over the counts instead of a method call per bucket.
 */
export function mergeInto(target: Histogram, source: Histogram): void {
  const t = internals(target);
  const s = internals(source);
  const into = t._counts;
  const from = s._counts;
  let added = 0;
  for (let i = 0; i < LENGTH; i++) {
    const c = from[i]!;
    if (c > 0) {
      into[i] = into[i]! + c;
      added += c;
    }
  }
  if (!(t._totalCount + added <= Number.MAX_SAFE_INTEGER)) {
    throw new RangeError("Histogram counts would exceed 2^53");
  }
  t._totalCount += added;
  t.updatedMaxValue(Math.max(t.maxValue, s.maxValue));
  t.updateMinNonZeroValue(Math.min(t.minNonZeroValue, s.minNonZeroValue));
}

/** Merges any number of histograms into a new one (the inputs are unchanged). */
export function mergeAll(histograms: Iterable<Histogram>): Histogram {
  const merged = createLatencyHistogram();
  for (const h of histograms) mergeInto(merged, h);
  return merged;
}

/** Latency statistics in milliseconds, derived from one histogram. */
export interface LatencyStats {
  count: number;
  min: number;
  mean: number;
  median: number;
  mode: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const usToMs = (us: number) => round3(us / 1000);

/** The percentiles {@link summarize} reports, ascending. */
const PERCENTILES = [50, 90, 95, 99, 99.9];

/**
 * Derives the statistics of one histogram. Min and max are reported at bucket resolution (the
 * bucket's lowest and highest equivalent values), because an encoded histogram carries only
 * bucket counts: this way a driver's numbers and the orchestrator's decoded, merged numbers agree
 * exactly. Percentiles are clamped to [min, max]. The mode is the most frequent latency at 1 %
 * resolution (2 significant digits): at the histogram's own 0.1 % nearly every bucket is unique,
 * which makes a "mode" meaningless.
 */
export function summarize(histogram: Histogram | SparseHistogram): LatencyStats {
  const sparse = "index" in histogram ? histogram : sparseOf(histogram);
  const count = sparse.total;
  if (count === 0) {
    return {
      count: 0,
      min: 0,
      mean: 0,
      median: 0,
      mode: 0,
      p90: 0,
      p95: 0,
      p99: 0,
      p999: 0,
      max: 0,
    };
  }
  const { min, max, mean, percentiles: [p50, p90, p95, p99, p999], mode } = describe(
    sparse,
    PERCENTILES,
  );
  const clamp = (us: number) => usToMs(Math.min(max, Math.max(min, us)));
  return {
    count,
    min: usToMs(min),
    mean: usToMs(mean),
    median: clamp(p50!),
    mode: clamp(mode),
    p90: clamp(p90!),
    p95: clamp(p95!),
    p99: clamp(p99!),
    p999: clamp(p999!),
    max: usToMs(max),
  };
}
