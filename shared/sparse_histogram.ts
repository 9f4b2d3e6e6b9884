/**
 * A latency histogram as its non-empty buckets only: bucket indexes (ascending) and their counts.
 * A driver's cumulative histogram fills a few thousand of the layout's ~23,500 buckets and a
 * one-second interval a few hundred, so everything the orchestrator derives — differences,
 * merges, percentiles, the mean, the mode — costs a pass over those instead of over the whole
 * array. Figures are computed here only, for dense histograms too (histogram.ts), so a driver's
 * numbers and the orchestrator's are the same function of the same counts.
 *
 * A SparseHistogram is never changed once built: decoded ones are shared (histogram_codec.ts).
 */
import {
  BIN_AT,
  BIN_VALUE,
  buildHistogram,
  HIGHEST_AT,
  type Histogram,
  internals,
  LENGTH,
  MEDIAN_AT,
  VALUE_AT,
} from "./histogram_layout.ts";

/** The non-empty buckets of a latency histogram. Never mutate one. */
export interface SparseHistogram {
  /** Bucket indexes, ascending. */
  readonly index: Uint32Array;
  /** The count of each bucket in {@link index}, > 0. */
  readonly count: Float64Array;
  /** The sum of {@link count}. */
  readonly total: number;
}

/** No samples. */
export const EMPTY_SPARSE: SparseHistogram = Object.freeze({
  index: new Uint32Array(0),
  count: new Float64Array(0),
  total: 0,
});

/**
 * Where {@link difference}, {@link unpack} and the codec collect buckets before they copy out as
 * many as they found with {@link sparseCopy}. Shared: each fills and copies them out in one call.
 */
export const scratchIndex = new Uint32Array(LENGTH);
/** The counts beside {@link scratchIndex}. */
export const scratchCount = new Float64Array(LENGTH);

/**
 * A sparse histogram holding a copy of the first `n` buckets of `index` and `count`, both in one
 * new buffer: allocating a typed array's memory (and later collecting it) cost the orchestrator
 * more than the passes over a report's buckets, so each histogram gets one allocation, not two.
 */
export function sparseCopy(index: Uint32Array, count: Float64Array, n: number): SparseHistogram {
  if (n === 0) return EMPTY_SPARSE;
  const buffer = new ArrayBuffer(n * 12);
  const counts = new Float64Array(buffer, 0, n);
  const indexes = new Uint32Array(buffer, n * 8, n);
  counts.set(count.subarray(0, n));
  indexes.set(index.subarray(0, n));
  return sparseFrom(indexes, counts, n);
}

/** Builds a sparse histogram from the first `n` entries of two arrays (taken, not copied). */
export function sparseFrom(index: Uint32Array, count: Float64Array, n: number): SparseHistogram {
  let total = 0;
  for (let i = 0; i < n; i++) total += count[i]!;
  if (!(total <= Number.MAX_SAFE_INTEGER)) throw new RangeError("Histogram counts exceed 2^53");
  return { index: index.subarray(0, n), count: count.subarray(0, n), total };
}

/** The non-empty buckets of a histogram of the layout. */
export function sparseOf(histogram: Histogram): SparseHistogram {
  const counts = internals(histogram)._counts;
  let n = 0;
  for (let i = 0; i < LENGTH; i++) if (counts[i]! > 0) n++;
  const index = new Uint32Array(n);
  const count = new Float64Array(n);
  for (let i = 0, k = 0; k < n; i++) {
    const c = counts[i]!;
    if (c > 0) {
      index[k] = i;
      count[k++] = c;
    }
  }
  return sparseFrom(index, count, n);
}

/** A histogram of the layout with these samples (for the driver and the tests). */
export function denseOf(sparse: SparseHistogram): Histogram {
  const histogram = buildHistogram();
  const h = internals(histogram);
  const n = sparse.index.length;
  for (let k = 0; k < n; k++) h._counts[sparse.index[k]!] = sparse.count[k]!;
  h._totalCount = sparse.total;
  if (n > 0) {
    // As hdr-histogram-js sets them after decoding: the max at its bucket's top, the min (never
    // bucket 0) at its bucket's bottom.
    h.updatedMaxValue(HIGHEST_AT[sparse.index[n - 1]!]!);
    const first = sparse.index[0] === 0 ? 1 : 0;
    if (first < n) h.updateMinNonZeroValue(VALUE_AT[sparse.index[first]!]!);
  }
  return histogram;
}

/**
 * The samples of `current` that are not in `previous`: what a cumulative histogram gained since
 * an earlier state of itself. Undefined when `current` lacks some of `previous`'s samples (a
 * driver that started its counts again), since no exact difference exists then.
 */
export function difference(
  current: SparseHistogram,
  previous: SparseHistogram,
): SparseHistogram | undefined {
  const { index: ci, count: cc } = current;
  const { index: pi, count: pc } = previous;
  const index = scratchIndex;
  const count = scratchCount;
  let n = 0;
  let p = 0;
  for (let c = 0; c < ci.length; c++) {
    const at = ci[c]!;
    // A bucket of `previous` that `current` no longer has: samples went missing.
    if (p < pi.length && pi[p]! < at) return undefined;
    let gained = cc[c]!;
    if (p < pi.length && pi[p] === at) gained -= pc[p++]!;
    if (gained < 0) return undefined;
    if (gained > 0) {
      index[n] = at;
      count[n++] = gained;
    }
  }
  return p < pi.length ? undefined : sparseCopy(index, count, n);
}

/**
 * {@link difference} from the sum of `parts` (a cumulative histogram and what was added to it
 * since), without building that sum: it would be as large as the cumulative histogram, and be
 * dropped at once.
 */
export function differenceFromParts(
  current: SparseHistogram,
  parts: readonly SparseHistogram[],
): SparseHistogram | undefined {
  if (parts.length === 1) return difference(current, parts[0]!);
  for (const { index, count } of parts) {
    for (let k = 0; k < index.length; k++) scratch[index[k]!] = scratch[index[k]!]! + count[k]!;
  }
  const { index: ci, count: cc } = current;
  const index = scratchIndex;
  const count = scratchCount;
  let n = 0;
  let exact = true;
  for (let c = 0; c < ci.length; c++) {
    const at = ci[c]!;
    const gained = cc[c]! - scratch[at]!;
    scratch[at] = 0;
    if (gained < 0) exact = false;
    else if (gained > 0) {
      index[n] = at;
      count[n++] = gained;
    }
  }
  // A bucket of the parts that `current` lacks is still counted here: samples went missing.
  for (const { index: pi } of parts) {
    for (let k = 0; k < pi.length; k++) {
      if (scratch[pi[k]!] !== 0) {
        exact = false;
        scratch[pi[k]!] = 0;
      }
    }
  }
  return exact ? sparseCopy(index, count, n) : undefined;
}

/** Whether every sample of `part` is also in `whole`: no bucket of `part` holds more. */
export function isWithin(part: SparseHistogram, whole: SparseHistogram): boolean {
  const { index: pi, count: pc } = part;
  const { index: wi, count: wc } = whole;
  let w = 0;
  for (let p = 0; p < pi.length; p++) {
    const at = pi[p]!;
    while (w < wi.length && wi[w]! < at) w++;
    if (w === wi.length || wi[w] !== at || wc[w]! < pc[p]!) return false;
  }
  return true;
}

/**
 * A sparse histogram in a few bytes per bucket, for keeping many of them: each bucket as the
 * distance from the previous one and its count, both LEB128 varints. A one-second interval of a
 * busy driver packs in about 2 KB, a sixth of its arrays.
 */
export type PackedHistogram = Uint8Array;

/** Where {@link pack} writes before it copies out what it wrote: 3 + 8 bytes a bucket at most. */
const packScratch = new Uint8Array(LENGTH * 11);

/** Appends an unsigned LEB128 varint (up to 2^53); returns the next free position. */
export function putVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

/** The packed form of `sparse`. */
export function pack(sparse: SparseHistogram): PackedHistogram {
  const { index, count } = sparse;
  let at = 0;
  let previous = 0;
  for (let k = 0; k < index.length; k++) {
    at = putVarint(packScratch, at, index[k]! - previous);
    at = putVarint(packScratch, at, count[k]!);
    previous = index[k]!;
  }
  return packScratch.slice(0, at);
}

/** The sparse histogram {@link pack} packed. */
export function unpack(packed: PackedHistogram): SparseHistogram {
  let n = 0;
  let bucket = 0;
  for (let at = 0; at < packed.length;) {
    for (let field = 0; field < 2; field++) {
      let value = 0;
      let scale = 1;
      let byte: number;
      do {
        byte = packed[at++]!;
        value += (byte & 0x7f) * scale;
        scale *= 0x80;
      } while (byte >= 0x80);
      if (field === 0) bucket += value;
      else {
        scratchIndex[n] = bucket;
        scratchCount[n++] = value;
      }
    }
  }
  return sparseCopy(scratchIndex, scratchCount, n);
}

/** One bucket array for {@link merge} and {@link differenceFromParts}; zero between calls. */
const scratch = new Float64Array(LENGTH);

/** The samples of all of `parts` in one histogram. */
export function merge(parts: readonly SparseHistogram[]): SparseHistogram {
  const present = parts.filter((p) => p.total > 0);
  if (present.length === 0) return EMPTY_SPARSE;
  if (present.length === 1) return present[0]!;
  let low = LENGTH;
  let high = -1;
  for (const { index, count } of present) {
    const n = index.length;
    for (let k = 0; k < n; k++) scratch[index[k]!] = scratch[index[k]!]! + count[k]!;
    low = Math.min(low, index[0]!);
    high = Math.max(high, index[n - 1]!);
  }
  const index = scratchIndex;
  const count = scratchCount;
  let n = 0;
  for (let i = low; i <= high; i++) {
    const c = scratch[i]!;
    if (c === 0) continue;
    index[n] = i;
    count[n++] = c;
    scratch[i] = 0;
  }
  return sparseCopy(index, count, n);
}

/** What {@link describe} derives, in µs. */
export interface Description {
  /** The lowest value of the lowest non-empty bucket above 0. */
  min: number;
  /** The highest value of the highest non-empty bucket. */
  max: number;
  mean: number;
  /** The value at each asked percentile, as hdr-histogram-js's getValueAtPercentile says. */
  percentiles: number[];
  /** The centre of the most populated 2-significant-digit bin; on a tie, the smaller one. */
  mode: number;
}

/** How many values lie at or below percentile `p` (hdr-histogram-js's rounding, ulp and all). */
function countAtPercentile(p: number, total: number): number {
  const fp = (Math.min(p, 100) / 100) * total;
  const ulp = Math.pow(2, Math.floor(Math.log2(fp)) - 52);
  return Math.max(Math.ceil(fp - ulp), 1);
}

/** Counts per mode bin, reused by every call (zero between calls). */
const binCounts = new Float64Array(BIN_VALUE.length);

/**
 * Min, max, mean, the values at `percentiles` (ascending, each > 0) and the mode of a non-empty
 * histogram, in one pass. The mean sums bucket middles in bucket order, as hdr-histogram-js
 * does, so it is the same floating-point number.
 */
export function describe(sparse: SparseHistogram, percentiles: readonly number[]): Description {
  const { index, count, total } = sparse;
  const n = index.length;
  const wanted = percentiles.map((p) => countAtPercentile(p, total));
  const found = percentiles.map(() => 0);
  let next = 0;
  let seen = 0;
  let sum = 0;
  let bestBin = 0;
  let bestCount = -1;
  for (let k = 0; k < n; k++) {
    const i = index[k]!;
    const c = count[k]!;
    seen += c;
    sum += MEDIAN_AT[i]! * c;
    while (next < wanted.length && seen >= wanted[next]!) found[next++] = HIGHEST_AT[i]!;
    const bin = BIN_AT[i]!;
    const inBin = (binCounts[bin] = binCounts[bin]! + c);
    if (inBin > bestCount || (inBin === bestCount && bin < bestBin)) {
      bestCount = inBin;
      bestBin = bin;
    }
  }
  for (let k = 0; k < n; k++) binCounts[BIN_AT[index[k]!]!] = 0;
  const lowest = n > 1 && index[0] === 0 ? index[1]! : index[0] ?? 0;
  return {
    min: VALUE_AT[lowest]!,
    max: n === 0 ? 0 : HIGHEST_AT[index[n - 1]!]!,
    mean: total === 0 ? 0 : sum / total,
    percentiles: found,
    mode: BIN_VALUE[bestBin]!,
  };
}
