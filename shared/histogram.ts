/**
 * The one module that owns latency histograms. Every histogram in surge comes from
 * {@link createLatencyHistogram}, so they all share one precision and can be merged exactly.
 * Values are integer microseconds. Percentiles are only ever derived from a (merged) histogram,
 * never averaged across drivers or workers.
 */
import { inflateSync } from "node:zlib";
import * as hdr from "hdr-histogram-js";

/** A latency histogram (hdr-histogram-js, pure-JS mode: nothing to destroy). */
export type Histogram = hdr.Histogram;

/** 1 µs to 1 hour at 3 significant digits: 0.1 % relative error on every recorded value. */
const LOWEST_US = 1;
const HIGHEST_US = 3_600_000_000;
const SIGNIFICANT_DIGITS = 3;
const BIT_BUCKET_SIZE = 64;

/** A fresh, empty latency histogram in microseconds. */
export function createLatencyHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    bitBucketSize: BIT_BUCKET_SIZE,
    useWebAssembly: false,
    autoResize: false,
  });
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

/** Compressed base64 form, for Kafka messages and worker snapshots. */
export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/**
 * The largest encoded histogram accepted: a histogram with every one of its ~47,000 buckets
 * populated with large counts compresses to well under half of this.
 */
export const MAX_ENCODED_HISTOGRAM_CHARS = 1_000_000;
/** The most an encoded histogram may inflate to (its varint counts: ≤ 9 bytes per bucket). */
const MAX_INFLATED_BYTES = 1 << 20;

/**
 * Refuses a payload that is too large, or that would inflate past {@link MAX_INFLATED_BYTES}
 * (a zip bomb), before hdr-histogram-js inflates it without a limit. The compressed form is a
 * 4-byte cookie, a 4-byte length, then zlib data.
 */
function checkSize(encoded: string): void {
  if (encoded.length > MAX_ENCODED_HISTOGRAM_CHARS) {
    throw new RangeError(
      `Encoded histogram of ${encoded.length} characters exceeds ${MAX_ENCODED_HISTOGRAM_CHARS}`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  } catch (err) {
    throw new RangeError("Invalid encoded histogram: not base64", { cause: err });
  }
  try {
    inflateSync(bytes.subarray(8), { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (err) {
    throw new RangeError(
      `Invalid encoded histogram: its payload does not inflate within ${MAX_INFLATED_BYTES} bytes`,
      { cause: err },
    );
  }
}

/** Decodes {@link encodeHistogram}'s output; throws RangeError on anything else. */
export function decodeHistogram(encoded: string): Histogram {
  checkSize(encoded);
  let decoded: Histogram;
  try {
    decoded = hdr.decodeFromCompressedBase64(encoded, BIT_BUCKET_SIZE, false);
  } catch (err) {
    throw new RangeError("Invalid encoded histogram", { cause: err });
  }
  // Rebuild at our precision so histograms decoded from any peer still merge exactly.
  const result = createLatencyHistogram();
  result.add(decoded);
  return result;
}

/** Adds every sample of `source` to `target`. */
export function mergeInto(target: Histogram, source: Histogram): void {
  target.add(source);
}

/** Merges any number of histograms into a new one (the inputs are unchanged). */
export function mergeAll(histograms: Iterable<Histogram>): Histogram {
  const merged = createLatencyHistogram();
  for (const h of histograms) merged.add(h);
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

interface RecordedValuesIterator {
  reset(): void;
  hasNext(): boolean;
  next(): { valueIteratedTo: number; countAtValueIteratedTo: number };
}

/**
 * The most frequent latency at 1 % resolution (2 significant digits): at the histogram's own
 * 0.1 % resolution nearly every bucket is unique, which makes a "mode" meaningless.
 */
function modeMicros(histogram: Histogram): number {
  // The JS implementation has this iterator; its type declarations leave it out.
  const it = (histogram as unknown as { recordedValuesIterator: RecordedValuesIterator })
    .recordedValuesIterator;
  it.reset();
  const bins = new Map<number, number>();
  let best = 0;
  let bestCount = -1;
  while (it.hasNext()) {
    const step = it.next();
    const value = step.valueIteratedTo;
    const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(1, value))) - 1);
    const bin = Math.round(value / magnitude) * magnitude;
    const n = (bins.get(bin) ?? 0) + step.countAtValueIteratedTo;
    bins.set(bin, n);
    if (n > bestCount || (n === bestCount && bin < best)) {
      bestCount = n;
      best = bin;
    }
  }
  return best;
}

/** Bucket bounds; present in the JS implementation, missing from its type declarations. */
interface EquivalentValues {
  highestEquivalentValue(value: number): number;
  lowestEquivalentValue(value: number): number;
}

/**
 * Derives the statistics of one histogram. Min and max are reported at bucket resolution (the
 * bucket's lowest and highest equivalent values), because an encoded histogram carries only
 * bucket counts: this way a driver's numbers and the orchestrator's decoded, merged numbers agree
 * exactly. Percentiles are clamped to [min, max].
 */
export function summarize(histogram: Histogram): LatencyStats {
  const count = histogram.totalCount;
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
  const bounds = histogram as unknown as EquivalentValues;
  const min = bounds.lowestEquivalentValue(histogram.minNonZeroValue);
  const max = bounds.highestEquivalentValue(histogram.maxValue);
  const at = (p: number) => usToMs(Math.min(max, Math.max(min, histogram.getValueAtPercentile(p))));
  return {
    count,
    min: usToMs(min),
    mean: usToMs(histogram.mean),
    median: at(50),
    mode: usToMs(Math.min(max, Math.max(min, modeMicros(histogram)))),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: usToMs(max),
  };
}
