import assert from "node:assert/strict";
import { backoffDelay } from "../../shared/backoff.ts";

Deno.test("backoffDelay() doubles from initialMs and stops at maxMs", () => {
  const policy = { initialMs: 250, maxMs: 2000 };
  const cases: [string, number, number][] = [
    ["no failure: no wait", 0, 0],
    ["a negative count is no failure", -1, 0],
    ["first failure: initialMs", 1, 250],
    ["second: doubled", 2, 500],
    ["third", 3, 1000],
    ["fourth reaches the cap", 4, 2000],
    ["fifth stays at the cap", 5, 2000],
    ["a huge count neither overflows nor passes the cap", 10_000, 2000],
  ];
  for (const [what, failures, expected] of cases) {
    assert.equal(backoffDelay(failures, policy), expected, what);
  }
});

Deno.test("backoffDelay() with initialMs above maxMs waits maxMs", () => {
  assert.equal(backoffDelay(1, { initialMs: 5000, maxMs: 1000 }), 1000);
});
