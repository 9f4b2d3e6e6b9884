import assert from "node:assert/strict";
import { addCounts } from "../../shared/counts.ts";

const rows: {
  name: string;
  into: Record<string, number>;
  from: Record<string, number | undefined>;
  want: Record<string, number>;
}[] = [
  { name: "into empty", into: {}, from: { "200": 3 }, want: { "200": 3 } },
  { name: "sums shared keys", into: { timeout: 2 }, from: { timeout: 5 }, want: { timeout: 7 } },
  {
    name: "keeps keys only one side has",
    into: { reset: 1 },
    from: { timeout: 4 },
    want: { reset: 1, timeout: 4 },
  },
  { name: "skips undefined", into: { a: 1 }, from: { a: undefined, b: undefined }, want: { a: 1 } },
  { name: "adds a zero as a key", into: {}, from: { "503": 0 }, want: { "503": 0 } },
];

for (const row of rows) {
  Deno.test(`addCounts ${row.name}`, () => {
    const into = { ...row.into };
    addCounts(into, row.from);
    assert.deepEqual(into, row.want);
  });
}
