/**
 * surge's one histogram layout, seen from the inside: its parameters, the counts array of an
 * hdr-histogram-js histogram built with them, and the value of every bucket computed once, by the
 * library itself. The figures derived elsewhere (sparse_histogram.ts) read these tables instead
 * of asking the library bucket by bucket, and so are exactly the library's numbers.
 */
import * as hdr from "hdr-histogram-js";

/** 1 µs to 1 hour at 3 significant digits: 0.1 % relative error on every recorded value. */
export const LOWEST_US = 1;
export const HIGHEST_US = 3_600_000_000;
export const SIGNIFICANT_DIGITS = 3;
const BIT_BUCKET_SIZE = 64;

/** A histogram of the layout (hdr-histogram-js, pure-JS mode: nothing to destroy). */
export type Histogram = hdr.Histogram;

/** A fresh, empty histogram of the layout. */
export function buildHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    bitBucketSize: BIT_BUCKET_SIZE,
    useWebAssembly: false,
    autoResize: false,
  });
}

/**
 * What the JS implementation has beyond its type declarations: the counts array and the
 * bookkeeping that goes with it (the names are its own; see JsHistogram.js and
 * TypedArrayHistogram.js in hdr-histogram-js 3).
 */
export interface Internals {
  _counts: Float64Array;
  _totalCount: number;
  maxValue: number;
  minNonZeroValue: number;
  countsArrayLength: number;
  bucketCount: number;
  subBucketCount: number;
  unitMagnitude: number;
  valueFromIndex(index: number): number;
  countsArrayIndex(value: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
  updatedMaxValue(value: number): void;
  updateMinNonZeroValue(value: number): void;
}

const TEMPLATE = buildHistogram() as unknown as Internals;
/** Buckets in the counts array of every histogram of the layout. */
export const LENGTH = TEMPLATE.countsArrayLength;

/** The histogram's internals; a TypeError for one not built by {@link buildHistogram}. */
export function internals(histogram: Histogram): Internals {
  const h = histogram as unknown as Internals;
  if (
    !(h._counts instanceof Float64Array) || h._counts.length !== LENGTH ||
    h.countsArrayLength !== LENGTH || h.bucketCount !== TEMPLATE.bucketCount ||
    h.subBucketCount !== TEMPLATE.subBucketCount || h.unitMagnitude !== TEMPLATE.unitMagnitude
  ) {
    throw new TypeError("Not a surge latency histogram: build it with createLatencyHistogram()");
  }
  return h;
}

/** Per bucket: the lowest value it holds (a minimum is reported as this). */
export const VALUE_AT = new Float64Array(LENGTH);
/** Per bucket: the highest value it holds (percentiles, the maximum and the recorded values). */
export const HIGHEST_AT = new Float64Array(LENGTH);
/** Per bucket: its middle, which the mean counts each of its values as. */
export const MEDIAN_AT = new Float64Array(LENGTH);
/** Per bucket: the rank of its 2-significant-digit mode bin in {@link BIN_VALUE}. */
export const BIN_AT = new Uint32Array(LENGTH);
/** The mode bins' centres in µs, ascending. */
export const BIN_VALUE: number[] = [];

/** The centre of the 2-significant-digit bin a value joins (the nearest centre, half up). */
function modeBin(value: number): number {
  const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(1, value))) - 1);
  return Math.round(value / magnitude) * magnitude;
}

{
  const bins = new Set<number>();
  for (let i = 0; i < LENGTH; i++) {
    const value = TEMPLATE.valueFromIndex(i);
    VALUE_AT[i] = value;
    HIGHEST_AT[i] = TEMPLATE.highestEquivalentValue(value);
    // The library's iterator reports a bucket by its highest value; its mean takes the middle of
    // that value's range.
    MEDIAN_AT[i] = TEMPLATE.medianEquivalentValue(HIGHEST_AT[i]!);
    bins.add(modeBin(HIGHEST_AT[i]!));
  }
  BIN_VALUE.push(...[...bins].sort((a, b) => a - b));
  const rank = new Map(BIN_VALUE.map((bin, i) => [bin, i]));
  for (let i = 0; i < LENGTH; i++) BIN_AT[i] = rank.get(modeBin(HIGHEST_AT[i]!))!;
}
