import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeAll,
  recordMicros,
  summarize,
} from "../../shared/histogram.ts";

/** A deterministic pseudo-random sequence, so failures reproduce. */
function lcg(seed: number) {
  let x = seed;
  return () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

Deno.test("merging three histograms equals the histogram of all their samples", () => {
  const rand = lcg(42);
  const parts = [createLatencyHistogram(), createLatencyHistogram(), createLatencyHistogram()];
  const all = createLatencyHistogram();
  for (let i = 0; i < 30_000; i++) {
    // Long-tailed, like real latency: mostly ~1 ms, some up to seconds.
    const us = Math.floor(200 + rand() ** 6 * 3_000_000);
    recordMicros(parts[i % 3]!, us);
    recordMicros(all, us);
  }
  const merged = mergeAll(parts);
  assert.deepEqual(summarize(merged), summarize(all));
  assert.equal(merged.totalCount, 30_000);
});

Deno.test("encode/decode round-trips exactly", () => {
  const h = createLatencyHistogram();
  for (let us = 1; us < 2_000_000; us = Math.ceil(us * 1.01)) recordMicros(h, us);
  const back = decodeHistogram(encodeHistogram(h));
  assert.deepEqual(summarize(back), summarize(h));
});

Deno.test("decodeHistogram rejects garbage with a RangeError", () => {
  for (const bad of ["", "hello", "HISTFAAAAB14nJNpmSzMwMDAwQAB"]) {
    assert.throws(() => decodeHistogram(bad), RangeError);
  }
});

Deno.test("summarize: table of known distributions (ms, 0.1 % precision)", () => {
  const table: {
    name: string;
    samples: number[];
    expect: Partial<ReturnType<typeof summarize>>;
  }[] = [
    {
      name: "empty",
      samples: [],
      expect: { count: 0, min: 0, max: 0, mean: 0, median: 0, mode: 0 },
    },
    {
      name: "single",
      samples: [1500],
      expect: { count: 1, min: 1.5, max: 1.5, median: 1.5, p999: 1.5 },
    },
    {
      name: "1..1000 µs",
      samples: Array.from({ length: 1000 }, (_, i) => i + 1),
      expect: { count: 1000, min: 0.001, max: 1, mean: 0.5005, median: 0.5, p90: 0.9, p99: 0.99 },
    },
    {
      name: "mode is the most frequent value",
      samples: [100, 200, 200, 200, 300, 5000, 5000],
      expect: { mode: 0.2, min: 0.1, max: 5 },
    },
  ];
  for (const row of table) {
    const h = createLatencyHistogram();
    for (const s of row.samples) recordMicros(h, s);
    const stats = summarize(h);
    for (const [key, want] of Object.entries(row.expect)) {
      const got = stats[key as keyof typeof stats];
      assert.ok(
        Math.abs(got - want) <= Math.max(0.001, want * 0.001),
        `${row.name}.${key}: ${got} != ${want}`,
      );
    }
  }
});

Deno.test("percentiles never exceed the maximum nor fall below the minimum", () => {
  const h = createLatencyHistogram();
  for (const us of [1001, 1003, 1_000_777]) recordMicros(h, us);
  const s = summarize(h);
  for (const p of [s.median, s.p90, s.p95, s.p99, s.p999, s.mode]) {
    assert.ok(p <= s.max && p >= s.min, `${p} outside [${s.min}, ${s.max}]`);
  }
});

Deno.test("recordMicros clamps out-of-range values instead of dropping them", () => {
  const h = createLatencyHistogram();
  recordMicros(h, 0);
  recordMicros(h, -5);
  recordMicros(h, 1e13);
  assert.equal(h.totalCount, 3);
});

Deno.test("the mode is the centre of the most populated 2-significant-digit bin", () => {
  // Bins are 10^(digits − 2) µs wide around 2-significant-digit centres: 1 µs below 100 µs,
  // 10 µs from 100 µs, 100 µs from 1 ms, 1 ms from 10 ms. A value goes to its nearest centre.
  const table: [string, number[], number][] = [
    // 1,180-1,249 µs all round to the 1.2 ms bin (4 samples) and beat 5 ms (3 samples).
    [
      "a tight cluster beats a repeated exact value",
      [1230, 1240, 1249, 1180, 5000, 5000, 5000],
      1.2,
    ],
    // 1,250 µs rounds up into the 1.3 ms bin: 3 there against 2 in 1.2 ms.
    ["a bin boundary rounds half up", [1250, 1260, 1340, 1150, 1240], 1.3],
    // Below 100 µs the bins are 1 µs wide.
    ["microsecond bins under 100 µs", [42, 42, 43, 99, 99, 99], 0.099],
    // Ties go to the smaller bin.
    ["a tie goes to the faster bin", [20_000, 20_000, 30_000, 30_000], 20],
  ];
  for (const [name, samples, mode] of table) {
    const h = createLatencyHistogram();
    for (const us of samples) recordMicros(h, us);
    assert.equal(summarize(h).mode, mode, name);
  }
});

Deno.test("a histogram payload that would inflate past 1 MiB or is too long is refused first", () => {
  // A zip bomb: 10 MB of zeros deflate to ~10 KB behind a valid-looking 8-byte header.
  const bomb = deflateSync(new Uint8Array(10_000_000));
  const bytes = new Uint8Array(8 + bomb.length);
  new DataView(bytes.buffer).setInt32(0, 0x1c849314);
  new DataView(bytes.buffer).setInt32(4, bomb.length);
  bytes.set(bomb, 8);
  const encoded = btoa(String.fromCharCode(...bytes));
  assert.ok(encoded.length < 20_000, `${encoded.length} chars`);
  assert.throws(() => decodeHistogram(encoded), {
    name: "RangeError",
    message: /does not inflate within 1048576 bytes/,
  });
  assert.throws(() => decodeHistogram("A".repeat(1_000_004)), {
    name: "RangeError",
    message: /exceeds 1000000/,
  });
});
