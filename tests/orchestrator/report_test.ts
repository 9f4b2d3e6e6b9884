import assert from "node:assert/strict";
import { CSV_COLUMNS, csvField, csvReport } from "../../orchestrator/report.ts";
import { testView } from "../cli/fixtures.ts";
import { parseCsv } from "../support/csv.ts";

Deno.test("csvField() quotes exactly the fields RFC 4180 requires", () => {
  const table: [string | number, string][] = [
    ["plain", "plain"],
    [42, "42"],
    ["", ""],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\r\nlines", '"two\r\nlines"'],
    ["lf\nonly", '"lf\nonly"'],
    ["semi;colon=1", "semi;colon=1"],
  ];
  for (const [value, want] of table) assert.equal(csvField(value), want, JSON.stringify(value));
});

Deno.test("csvReport() round-trips through a CSV reader, commas and quotes included", () => {
  const view = testView();
  view.overall = {
    ...view.overall,
    offered: 3000,
    dropped: 2700,
    warnings: ['10 connections cannot carry 1,000 req/s at "100" ms', "second, warning"],
  };
  view.drivers.two!.error = 'worker 1: boom, "bad"\nline two';
  const rows = parseCsv(csvReport(view));
  assert.equal(rows.length, 4);
  assert.deepEqual(rows[0], [...CSV_COLUMNS]);
  const record = (i: number) => Object.fromEntries(CSV_COLUMNS.map((k, j) => [k, rows[i]![j]]));
  const overall = record(1);
  assert.equal(overall.scope, "overall");
  assert.equal(overall.offered, "3000");
  assert.equal(overall.dropped, "2700");
  assert.equal(
    overall.warnings,
    '10 connections cannot carry 1,000 req/s at "100" ms | second, warning',
  );
  assert.equal(overall.status_codes, "200=980;503=10");
  assert.equal(record(3).scope, "two");
  assert.equal(record(3).error, 'worker 1: boom, "bad"\nline two');
  for (const row of rows) assert.equal(row.length, CSV_COLUMNS.length);
});
