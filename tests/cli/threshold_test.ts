import assert from "node:assert/strict";
import {
  errorRate,
  evaluateThresholds,
  parseThreshold,
  parseThresholds,
} from "../../cli/threshold.ts";
import { UsageError } from "../../shared/usage_error.ts";
import { stats } from "./fixtures.ts";

Deno.test("parseThreshold() reads metric, operator and value in the threshold's unit", () => {
  const table: [string, string, string, number][] = [
    ["p99<250ms", "p99", "<", 250],
    ["p95<=1s", "p95", "<=", 1000],
    ["p50 < 500us", "median", "<", 0.5],
    ["median<2", "median", "<", 2],
    ["p99.9<=40ms", "p999", "<=", 40],
    ["p999<40", "p999", "<", 40],
    ["MAX>=0.5s", "max", ">=", 500],
    ["avg<3ms", "mean", "<", 3],
    ["error_rate<1%", "error_rate", "<", 0.01],
    ["error_rate<=0.05", "error_rate", "<=", 0.05],
    ["error_rate==0", "error_rate", "==", 0],
    ["rps>1000", "rps", ">", 1000],
    ["rps>=2.5e3", "rps", ">=", 2500],
    ["errors=0", "errors", "==", 0],
    ["responses>=2000", "responses", ">=", 2000],
    ["dropped==0", "dropped", "==", 0],
    ["late<10", "late", "<", 10],
    ["queued==0", "queued", "==", 0],
  ];
  for (const [text, metric, op, value] of table) {
    const t = parseThreshold(text);
    assert.equal(t.metric, metric, text);
    assert.equal(t.op, op, text);
    assert.ok(Math.abs(t.value - value) < 1e-12, `${text}: ${t.value} != ${value}`);
    assert.equal(t.source, text.trim());
  }
});

Deno.test("parseThreshold() rejects what it cannot read, naming the problem", () => {
  const table: [string, RegExp][] = [
    ["", /expected METRIC OP VALUE/],
    ["p99", /expected METRIC OP VALUE/],
    ["p99<", /expected METRIC OP VALUE/],
    ["p99 ≤ 250ms", /expected METRIC OP VALUE/],
    ["p99<250min", /not a time unit/],
    ["p42<250ms", /unknown metric "p42"/],
    ["latency<5", /unknown metric/],
    ["error_rate<5ms", /% or a fraction/],
    ["error_rate<150%", /at most 100%/],
    ["rps>1000ms", /plain number/],
    ["p99<-5ms", /expected METRIC OP VALUE/],
  ];
  for (const [text, pattern] of table) {
    assert.throws(() => parseThreshold(text), (err: Error) => {
      assert.ok(err instanceof UsageError, text);
      assert.match(err.message, pattern, text);
      assert.ok(err.message.includes(`"${text}"`), `${text}: ${err.message}`);
      return true;
    });
  }
});

Deno.test("parseThresholds() reports every bad threshold at once", () => {
  assert.throws(() => parseThresholds(["p99<1s", "nope", "p42<1"]), (err: Error) => {
    assert.match(err.message, /"nope"/);
    assert.match(err.message, /"p42<1"/);
    assert.doesNotMatch(err.message, /"p99<1s"/);
    return true;
  });
  assert.equal(parseThresholds([]).length, 0);
});

Deno.test("errorRate() counts transport errors and statuses >= 400 over requests", () => {
  const table: [number, number, Record<string, number>, number][] = [
    [0, 0, {}, 0],
    [100, 0, { "200": 100 }, 0],
    [100, 1, { "200": 99 }, 0.01],
    [100, 0, { "200": 90, "404": 5, "503": 5 }, 0.1],
    [100, 2, { "200": 93, "302": 3, "500": 2 }, 0.04],
  ];
  for (const [requests, errors, status_codes, expected] of table) {
    assert.equal(errorRate({ requests, errors, status_codes }), expected);
  }
});

Deno.test("evaluateThresholds() passes and fails on the merged statistics", () => {
  // stats(): p99 9.8 ms, p95 3 ms, max 31 ms, 1000 requests, 10 errors + 10 503s, rps 495.
  const overall = stats({ dropped: 7, late: 3 });
  const table: [string, boolean, number][] = [
    ["dropped==0", false, 7],
    ["late<5", true, 3],
    ["p99<250ms", true, 9.8],
    ["p99<9.8ms", false, 9.8],
    ["p99<=9.8ms", true, 9.8],
    ["p95<=1s", true, 3],
    ["max<30ms", false, 31],
    ["error_rate<1%", false, 0.02],
    ["error_rate<=2%", true, 0.02],
    ["rps>1000", false, 495],
    ["rps>400", true, 495],
    ["errors==10", true, 10],
    ["requests>=1000", true, 1000],
  ];
  const results = evaluateThresholds(table.map(([t]) => parseThreshold(t)), overall);
  table.forEach(([text, passed, actual], i) => {
    assert.equal(results[i]!.passed, passed, text);
    assert.ok(Math.abs(results[i]!.actual - actual) < 1e-12, `${text}: ${results[i]!.actual}`);
  });
});
