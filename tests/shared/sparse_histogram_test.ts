/**
 * The one-pass figures, codec and arithmetic of shared/sparse_histogram.ts and
 * shared/histogram_codec.ts against hdr-histogram-js's own: the same numbers, the same bytes.
 */
import assert from "node:assert/strict";
import { deflateSync, inflateSync } from "node:zlib";
import * as hdr from "hdr-histogram-js";
import {
  createLatencyHistogram,
  decodeHistogram,
  decodeSparse,
  denseOf,
  difference,
  differenceFromParts,
  encodeHistogram,
  type Histogram,
  isWithin,
  merge,
  mergeAll,
  pack,
  recordMicros,
  sparseOf,
  summarize,
  unpack,
} from "../../shared/histogram.ts";

/** A deterministic pseudo-random sequence, so failures reproduce. */
function lcg(seed: number) {
  let x = seed;
  return () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

/** Latency samples in µs of several shapes, each a row of the tables below. */
const SHAPES: [string, (rand: () => number) => number][] = [
  ["tight around 2 ms", (r) => 2000 + 50 * r()],
  ["long tail to seconds", (r) => 200 + r() ** 6 * 3_000_000],
  ["bimodal: fast and timeouts", (r) => r() < 0.97 ? 300 + 100 * r() : 10_000_000 + r() * 1000],
  ["the whole range, 1 µs to 1 h", (r) => 10 ** (r() * 9.6)],
  ["a single value", () => 1234],
];

function histogramOf(shape: (rand: () => number) => number, n: number, seed: number): Histogram {
  const rand = lcg(seed);
  const h = createLatencyHistogram();
  for (let i = 0; i < n; i++) recordMicros(h, shape(rand));
  return h;
}

/** summarize() as it was, asking hdr-histogram-js for each figure (the reference). */
function librarySummary(h: Histogram) {
  const lib = h as unknown as {
    minNonZeroValue: number;
    maxValue: number;
    lowestEquivalentValue(v: number): number;
    highestEquivalentValue(v: number): number;
    recordedValuesIterator: {
      reset(): void;
      hasNext(): boolean;
      next(): { valueIteratedTo: number; countAtValueIteratedTo: number };
    };
  };
  if (h.totalCount === 0) {
    const zero = { min: 0, mean: 0, median: 0, mode: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
    return { count: 0, ...zero };
  }
  const ms = (us: number) => Math.round(us) / 1000;
  const min = lib.lowestEquivalentValue(lib.minNonZeroValue);
  const max = lib.highestEquivalentValue(lib.maxValue);
  const clamp = (us: number) => Math.min(max, Math.max(min, us));
  const it = lib.recordedValuesIterator;
  it.reset();
  const bins = new Map<number, number>();
  let mode = 0;
  let best = -1;
  while (it.hasNext()) {
    const { valueIteratedTo: v, countAtValueIteratedTo: c } = it.next();
    const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(1, v))) - 1);
    const bin = Math.round(v / magnitude) * magnitude;
    const n = (bins.get(bin) ?? 0) + c;
    bins.set(bin, n);
    if (n > best || (n === best && bin < mode)) [best, mode] = [n, bin];
  }
  return {
    count: h.totalCount,
    min: ms(min),
    mean: Math.round(h.mean / 1000 * 1000) / 1000,
    median: ms(clamp(h.getValueAtPercentile(50))),
    mode: ms(clamp(mode)),
    p90: ms(clamp(h.getValueAtPercentile(90))),
    p95: ms(clamp(h.getValueAtPercentile(95))),
    p99: ms(clamp(h.getValueAtPercentile(99))),
    p999: ms(clamp(h.getValueAtPercentile(99.9))),
    max: ms(max),
  };
}

Deno.test("summarize() gives hdr-histogram-js's own figures, dense or sparse", () => {
  for (const [name, shape] of SHAPES) {
    for (const n of [1, 7, 1000, 50_000]) {
      const h = histogramOf(shape, n, n);
      assert.deepEqual(summarize(h), librarySummary(h), `${name}, ${n} samples`);
      assert.deepEqual(summarize(sparseOf(h)), summarize(h), `${name}, ${n} samples, sparse`);
    }
  }
});

/** hdr-histogram-js's V2 bytes of `h` before its deflate: its compressed form, inflated. */
function libraryV2(h: Histogram): Uint8Array {
  const compressed = Uint8Array.from(
    atob(hdr.encodeIntoCompressedBase64(h)),
    (c) => c.charCodeAt(0),
  );
  return new Uint8Array(inflateSync(compressed.subarray(8)));
}

/** The compressed base64 form of a V2 payload, as hdr-histogram-js writes and reads it. */
function compressedOf(payload: Uint8Array): string {
  const body = deflateSync(payload);
  const bytes = new Uint8Array(8 + body.length);
  new DataView(bytes.buffer).setInt32(0, 0x1c849314);
  new DataView(bytes.buffer).setInt32(4, body.length);
  bytes.set(body, 8);
  return btoa(String.fromCharCode(...bytes));
}

Deno.test("encodeHistogram writes hdr-histogram-js's exact V2 bytes; the decoders agree", () => {
  for (const [name, shape] of SHAPES) {
    const h = histogramOf(shape, 20_000, 3);
    const encoded = encodeHistogram(h);
    const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
    assert.deepEqual(bytes, libraryV2(h), name);
    assert.deepEqual(
      summarize(decodeHistogram(encoded)),
      // hdr-histogram-js reads the V2 bytes (it takes them only compressed).
      librarySummary(hdr.decodeFromCompressedBase64(compressedOf(bytes), 64, false)),
      name,
    );
    assert.deepEqual(decodeSparse(encoded), sparseOf(h), name);
    // The compressed form that hdr-histogram-js and other HdrHistogram tools write reads the same.
    assert.deepEqual(decodeSparse(hdr.encodeIntoCompressedBase64(h)), sparseOf(h), name);
  }
  const empty = createLatencyHistogram();
  assert.deepEqual(
    Uint8Array.from(atob(encodeHistogram(empty)), (c) => c.charCodeAt(0)),
    libraryV2(empty),
  );
  assert.equal(decodeSparse(encodeHistogram(empty)).total, 0);
});

Deno.test("counts past 28 bits (long varints) survive the codec", () => {
  const h = createLatencyHistogram();
  h.recordValueWithCount(1500, 2 ** 40 + 3);
  h.recordValueWithCount(2_000_000, 2 ** 29);
  h.recordValueWithCount(7, 1);
  const back = decodeSparse(encodeHistogram(h));
  assert.equal(back.total, 2 ** 40 + 2 ** 29 + 4);
  assert.deepEqual(back, sparseOf(h));
});

Deno.test("a histogram of another precision is rebuilt at surge's", () => {
  const other = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 2,
    bitBucketSize: 32,
  });
  for (const us of [150, 1_500, 15_000, 15_000]) other.recordValue(us);
  const decoded = decodeHistogram(hdr.encodeIntoCompressedBase64(other));
  assert.equal(decoded.totalCount, 4);
  assert.equal(mergeAll([decoded, histogramOf(() => 100, 3, 1)]).totalCount, 7);
});

Deno.test("difference() of two cumulative states is the samples in between", () => {
  const rand = lcg(11);
  const before = createLatencyHistogram();
  const after = createLatencyHistogram();
  const between = createLatencyHistogram();
  for (let i = 0; i < 30_000; i++) {
    const us = 100 + rand() ** 4 * 2_000_000;
    recordMicros(after, us);
    recordMicros(i < 20_000 ? before : between, us);
  }
  assert.deepEqual(difference(sparseOf(after), sparseOf(before)), sparseOf(between));
  assert.deepEqual(difference(sparseOf(after), sparseOf(after))?.total, 0);
});

Deno.test("difference() is undefined when samples went missing (a restarted driver)", () => {
  const table: [string, number[], number[]][] = [
    ["a bucket emptied", [100, 200], [100]],
    ["a bucket shrank", [100, 100, 200], [100, 200, 300, 400]],
    ["a bucket beyond the new maximum", [100, 9_000], [100, 200]],
  ];
  for (const [name, previous, current] of table) {
    const p = createLatencyHistogram();
    const c = createLatencyHistogram();
    for (const us of previous) recordMicros(p, us);
    for (const us of current) recordMicros(c, us);
    assert.equal(difference(sparseOf(c), sparseOf(p)), undefined, name);
  }
});

Deno.test("differenceFromParts() is difference() from the parts' sum, and leaves no trace", () => {
  const of = (...us: number[]) => {
    const h = createLatencyHistogram();
    for (const u of us) recordMicros(h, u);
    return sparseOf(h);
  };
  const table: [string, number[][], number[], number[] | undefined][] = [
    ["base + 2 added", [[100, 200], [200, 300], [9_000]], [50, 100, 200, 200, 300, 9_000], [50]],
    ["nothing gained", [[100], [200]], [100, 200], []],
    ["no parts", [], [100, 200], [100, 200]],
    ["a bucket of the parts missing", [[100], [150]], [100, 200], undefined],
    ["a bucket shrank", [[200], [200]], [200, 300], undefined],
    ["beyond the current maximum", [[100], [9_000]], [100, 200], undefined],
  ];
  for (const [name, parts, current, gained] of table) {
    const result = differenceFromParts(of(...current), parts.map((p) => of(...p)));
    assert.deepEqual(result, gained && of(...gained), name);
    // Its scratch is clean again: a merge afterwards is exact.
    assert.deepEqual(merge([of(100), of(100, 300)]), of(100, 100, 300), `after ${name}`);
  }
  const rand = lcg(5);
  const parts = [0, 1, 2, 3].map((i) => histogramOf(SHAPES[i]![1], 3_000, i + 20));
  const whole = createLatencyHistogram();
  for (const p of parts) whole.add(p);
  const more = histogramOf((r) => 100 + r() * rand() * 50_000, 1_000, 9);
  whole.add(more);
  assert.deepEqual(differenceFromParts(sparseOf(whole), parts.map(sparseOf)), sparseOf(more));
});

Deno.test("isWithin() holds when no bucket of the part holds more than the whole's", () => {
  const of = (...us: number[]) => {
    const h = createLatencyHistogram();
    for (const u of us) recordMicros(h, u);
    return sparseOf(h);
  };
  const table: [string, number[], number[], boolean][] = [
    ["nothing", [], [100, 200], true],
    ["some of the samples", [200], [100, 200, 200], true],
    ["all of them", [100, 200], [100, 200], true],
    ["a bucket the whole lacks", [150], [100, 200], false],
    ["more in a bucket", [200, 200], [100, 200], false],
    ["beyond the whole's last bucket", [9_000], [100, 200], false],
    ["something of nothing", [100], [], false],
  ];
  for (const [name, part, whole, within] of table) {
    assert.equal(isWithin(of(...part), of(...whole)), within, name);
  }
});

Deno.test("merge() of sparse histograms equals hdr-histogram-js's add of them all", () => {
  for (const count of [0, 1, 2, 5, 50]) {
    const parts = Array.from(
      { length: count },
      (_, i) => histogramOf(SHAPES[i % SHAPES.length]![1], 2_000, i + 1),
    );
    const library = createLatencyHistogram();
    for (const p of parts) library.add(p);
    const merged = merge(parts.map(sparseOf));
    assert.deepEqual(merged, sparseOf(library), `${count} parts`);
    assert.deepEqual(summarize(denseOf(merged)), librarySummary(library), `${count} parts`);
  }
});

Deno.test("decodeSparse refuses broken payloads with a RangeError", () => {
  const valid = hdr.encodeIntoCompressedBase64(histogramOf(() => 1000, 10, 1));
  const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
  const wrap = compressedOf;
  /** A V2 payload of surge's layout with these count bytes. */
  const payload = (counts: number[]) => {
    const p = new Uint8Array(40 + counts.length);
    const v = new DataView(p.buffer);
    v.setInt32(0, 0x1c849313);
    v.setInt32(4, counts.length);
    v.setInt32(12, 3);
    v.setUint32(20, 1);
    v.setUint32(28, 3_600_000_000);
    p.set(counts, 40);
    return p;
  };
  assert.equal(decodeSparse(wrap(payload([0x02, 0x04]))).total, 3);
  assert.equal(decodeSparse(base64(payload([0x02, 0x04]))).total, 3);
  const table: [string, string, RegExp][] = [
    ["not base64", "#!@", /not base64/],
    ["not V2", btoa("12345678"), /not a V2/],
    ["a cut deflate stream", valid.slice(0, 40), /does not inflate|not base64/],
  ];
  // Each broken payload as it is sent (uncompressed) and deflated.
  const broken: [string, Uint8Array, RegExp][] = [
    ["a count cut short", payload([0x02, 0x84]), /cut/],
    [
      "a count of 10 bytes",
      payload([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1]),
      /long/,
    ],
    ["counts beyond the last bucket", payload([0xfd, 0xff, 0x7f, 0x02]), /beyond its range/],
    ["a payload length past its end", payload([0x02]).subarray(0, 40), /cut/],
  ];
  for (const [name, bytes, message] of broken) {
    table.push([name, base64(bytes), message], [`${name}, deflated`, wrap(bytes), message]);
  }
  for (const [name, encoded, message] of table) {
    assert.throws(() => decodeSparse(encoded), { name: "RangeError", message }, name);
  }
});

Deno.test("pack() and unpack() round-trip, in a few bytes a bucket", () => {
  for (const [name, shape] of SHAPES) {
    const sparse = sparseOf(histogramOf(shape, 5_000, 9));
    const packed = pack(sparse);
    assert.deepEqual(unpack(packed), sparse, name);
    assert.ok(packed.length <= 4 * sparse.index.length, `${name}: ${packed.length} bytes`);
  }
  const huge = createLatencyHistogram();
  huge.recordValueWithCount(3_599_000_000, 2 ** 52);
  assert.deepEqual(unpack(pack(sparseOf(huge))), sparseOf(huge));
  assert.equal(unpack(pack(sparseOf(createLatencyHistogram()))).total, 0);
});
