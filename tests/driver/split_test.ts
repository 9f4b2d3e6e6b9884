import assert from "node:assert/strict";
import { roundRobinShare, split } from "../../driver/split.ts";

const cases: { total: number; parts: number; want: number[] }[] = [
  { total: 0, parts: 1, want: [0] },
  { total: 0, parts: 3, want: [0, 0, 0] },
  { total: 1, parts: 3, want: [1, 0, 0] },
  { total: 10, parts: 3, want: [4, 3, 3] },
  { total: 11, parts: 3, want: [4, 4, 3] },
  { total: 12, parts: 3, want: [4, 4, 4] },
  { total: 5000, parts: 7, want: [715, 715, 714, 714, 714, 714, 714] },
  {
    total: Number.MAX_SAFE_INTEGER,
    parts: 2,
    want: [4503599627370496, 4503599627370495],
  },
];

for (const c of cases) {
  Deno.test(`split(${c.total}, ${c.parts}) gives the remainder to the first workers`, () => {
    const parts = split(c.total, c.parts);
    assert.deepEqual(parts, c.want);
    assert.equal(parts.reduce((a, b) => a + b, 0), c.total);
  });
}

Deno.test("split() adds back up to the total for every total and part count up to 64", () => {
  for (let total = 0; total <= 200; total++) {
    for (let parts = 1; parts <= 64; parts++) {
      const got = split(total, parts);
      assert.equal(got.length, parts);
      assert.equal(got.reduce((a, b) => a + b, 0), total);
      assert.ok(Math.max(...got) - Math.min(...got) <= 1);
      // Round-robin dealing of slots gives every part exactly its split() share.
      got.forEach((n, i) => assert.equal(roundRobinShare(total, parts, i), n));
    }
  }
});

Deno.test("split() rejects negative, fractional and unsafe totals and bad part counts", () => {
  for (const [total, parts] of [[-1, 2], [1.5, 2], [2 ** 60, 2], [NaN, 2], [4, 0], [4, 1.5]]) {
    assert.throws(() => split(total!, parts!), RangeError, `split(${total}, ${parts})`);
  }
});
