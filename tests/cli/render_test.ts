import assert from "node:assert/strict";
import { progressOf, renderProgress } from "../../cli/progress.ts";
import { renderSummary } from "../../cli/summary.ts";
import { renderTestList } from "../../cli/list.ts";
import { formatCount, formatCounts, formatDuration, renderTable } from "../../cli/table.ts";
import { evaluateThresholds, parseThresholds } from "../../cli/threshold.ts";
import { stats, testView } from "./fixtures.ts";

Deno.test("renderTable() pads columns to their widest cell and aligns numbers right", () => {
  const text = renderTable(["name", "n"], [["a", "1"], ["long", "1000"]], ["left", "right"]);
  assert.equal(text, "name     n\na        1\nlong  1000");
});

Deno.test("number formats are readable at every size", () => {
  const table: [string, string][] = [
    [formatCount(0), "0"],
    [formatCount(1234567), "1,234,567"],
    [formatDuration(0.25), "250µs"],
    [formatDuration(12.345), "12.3ms"],
    [formatDuration(250), "250ms"],
    [formatDuration(1500), "1.50s"],
    [formatCounts({}), "-"],
    [formatCounts({ "503": 1, "200": 9, "404": 0 }), "200:9 503:1"],
  ];
  for (const [actual, expected] of table) assert.equal(actual, expected);
});

Deno.test("progressOf() counts answered and failed requests against count × chosen drivers", () => {
  const running = testView({
    state: "running",
    overall: stats({ responses: 300, errors: 20 }),
  });
  assert.deepEqual(progressOf(running), { done: 320, total: 1000 });
  const open = testView({
    config: { ...testView().config, message_count_per_driver: 0, duration_s: 5 },
  });
  assert.equal(progressOf(open).total, null);
});

Deno.test("renderProgress() shows elapsed, progress, rps, p50/p99, errors and alive drivers", () => {
  const view = testView({
    state: "running",
    overall: stats({ responses: 600, errors: 3, rps: { last: 1234.4, mean: 1000 } }),
  });
  const line = renderProgress(view, [
    { node_id: "one", status: "alive" },
    { node_id: "two", status: "lost" },
    { node_id: "three", status: "alive" },
  ], 2.04);
  assert.equal(
    line,
    "[   2.0s]  running   603/1,000 (60%)  1,234 rps  p50 1.2ms  p99 9.8ms  errors 3  drivers 1/2 alive",
  );
  const fresh = testView({ state: "running", overall: stats({ responses: 0, errors: 0 }) });
  assert.match(renderProgress(fresh, [], 0), /p50 - {2}p99 -/);
});

Deno.test("renderSummary() has overall and per-driver rows with every statistic and thresholds", () => {
  const view = testView();
  view.drivers.two!.status = "lost";
  const results = evaluateThresholds(parseThresholds(["p99<250ms", "error_rate<1%"]), view.overall);
  const text = renderSummary(view, results);
  const lines = text.split("\n");
  assert.match(lines[0]!, /^Test t-1: finished after 2\.0s$/);
  assert.match(text, /latency \(ms\) +min +mean +median +mode +p90 +p99 +p99\.9 +max/);
  assert.match(text, /overall +0\.200 +1\.500 +1\.200 +1\.100 +2\.500 +9\.800 +20\.00 +31\.00/);
  assert.match(text, /^one +0\.200/m);
  assert.match(text, /^two \(lost\) +0\.200/m);
  assert.match(
    text,
    /overall +1,000 +1,000 +990 +10 +0 +0 +495\.0 +200:980 503:10 +timeout:10/,
  );
  assert.match(text, /expected statuses only: median 1\.200 +p99 9\.500 +max 30\.00 ms$/m);
  assert.match(text, /10 responses had an HTTP status >= 400/);
  assert.match(text, /Thresholds: 1 passed, 1 failed/);
  assert.match(text, /PASS {2}p99<250ms +actual 9\.8ms/);
  assert.match(text, /FAIL {2}error_rate<1% +actual 2\.00%/);
});

Deno.test("renderSummary() shows no latency, not zeros, for a row where nothing ended", () => {
  const view = testView();
  view.drivers.two = {
    ...view.drivers.two!,
    ...stats({ offered: 0, requests: 0, responses: 0, errors: 0, error_kinds: {} }),
  };
  // Errors have a latency too: a row of errors only still shows it.
  view.drivers.one = {
    ...view.drivers.one!,
    ...stats({ requests: 5, responses: 0, errors: 5, error_kinds: { reset: 5 } }),
  };
  const text = renderSummary(view);
  assert.match(text, /^two +- +- +- +- +- +- +- +-$/m);
  assert.match(text, /^one +0\.200/m);
});

Deno.test("renderSummary() shows dropped load, a driver's error and the saturation warning", () => {
  const view = testView();
  view.config = { ...view.config, target_throughput: 1000 };
  view.overall = {
    ...view.overall,
    offered: 3000,
    requests: 300,
    responses: 300,
    errors: 0,
    dropped: 2700,
    lag_ms: { p50: 0.3, p99: 40, max: 99 },
    warnings: ["10 connections cannot carry 1,000 req/s at 100 ms per response: ..."],
  };
  view.drivers.two!.error = "worker 0: deliberate crash";
  const text = renderSummary(view);
  assert.match(text, /^overall +3,000 +300 +300 +0 +2,700 /m);
  assert.match(text, /send lag p50 0\.300 +p99 40\.00 +max 99\.00 ms$/m);
  assert.match(text, /^driver two: worker 0: deliberate crash$/m);
  assert.match(text, /^warning: 10 connections cannot carry 1,000 req\/s/m);
});

Deno.test("the summary, the list and the progress line strip control characters from stored strings", () => {
  const view = testView({ state: "running", reason: "r\x1b]0;pwned\x07eason" });
  view.config = { ...view.config, target_url: "http://127.0.0.1/\x1b[2J\x1b[Hping" };
  view.overall = {
    ...view.overall,
    warnings: ["w\x9b31marn\nFAKE: all good"],
    status_codes: { "200": 980, "5\x1b[8m03": 10 },
  };
  view.drivers.two!.error = "boom\r\x1b[1A\x1b[2Kdone";
  const texts = {
    summary: renderSummary(view),
    list: renderTestList([view]),
    progress: renderProgress(view, [{ node_id: "one", status: "alive" }], 1),
  };
  for (const [name, text] of Object.entries(texts)) {
    // deno-lint-ignore no-control-regex -- looking for control characters is the test
    assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, `${name}: ${JSON.stringify(text)}`);
  }
  assert.match(texts.summary, /AVALANCHE GET http:\/\/127\.0\.0\.1\/ping /);
  assert.match(texts.summary, /^driver two: boom done$/m);
  assert.match(texts.summary, /^warning: warn FAKE: all good$/m, "the forged line is joined back");
  assert.match(texts.summary, /200:980 503:10/);
  assert.match(texts.list, /http:\/\/127\.0\.0\.1\/ping/);
  assert.match(texts.progress, /running/);
});
