import assert from "node:assert/strict";
import { trimOldest } from "../../shared/bounded.ts";

Deno.test("trimOldest() keeps the newest entries of a Map or a Set", () => {
  const table: [string, number, string[]][] = [
    ["under the bound: untouched", 5, ["a", "b", "c"]],
    ["at the bound: untouched", 3, ["a", "b", "c"]],
    ["over: the first inserted go", 2, ["b", "c"]],
    ["zero: empty", 0, []],
  ];
  for (const [name, max, kept] of table) {
    const map = new Map([["a", 1], ["b", 2], ["c", 3]]);
    trimOldest(map, max);
    assert.deepEqual([...map.keys()], kept, `Map: ${name}`);
    const set = new Set(["a", "b", "c"]);
    trimOldest(set, max);
    assert.deepEqual([...set], kept, `Set: ${name}`);
  }
});
