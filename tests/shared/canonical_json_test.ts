import assert from "node:assert/strict";
import { canonicalJson } from "../../shared/canonical_json.ts";

Deno.test("canonicalJson: key order and undefined members do not matter; values do", () => {
  const table: [unknown, unknown, boolean][] = [
    [{ a: 1, b: 2 }, { b: 2, a: 1 }, true],
    [{ a: { y: [1, { q: 1, p: 2 }], x: null } }, { a: { x: null, y: [1, { p: 2, q: 1 }] } }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: [1, 2] }, { a: [2, 1] }, false],
    [{ a: 1 }, { a: "1" }, false],
    [{ a: 1 }, { a: 1, b: null }, false],
    ["x", "x", true],
  ];
  for (const [a, b, same] of table) {
    assert.equal(
      canonicalJson(a) === canonicalJson(b),
      same,
      `${JSON.stringify(a)} ~ ${JSON.stringify(b)}`,
    );
  }
  assert.equal(canonicalJson({ b: [true], a: "é" }), '{"a":"é","b":[true]}');
});
