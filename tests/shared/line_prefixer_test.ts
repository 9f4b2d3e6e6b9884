import assert from "node:assert/strict";
import { LinePrefixer } from "../../shared/line_prefixer.ts";

Deno.test("LinePrefixer prefixes whole lines across arbitrary chunks", () => {
  const p = new LinePrefixer("x | ");
  assert.equal(p.push("hel"), "");
  assert.equal(p.push("lo\nwor"), "x | hello\n");
  assert.equal(p.push("ld\r\n\nlast"), "x | world\nx | \n");
  assert.equal(p.flush(), "x | last\n");
  assert.equal(p.flush(), "");
});
