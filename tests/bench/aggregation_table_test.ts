import assert from "node:assert/strict";
import type { AggregationCost } from "../../bench/aggregation_cost.ts";
import { aggregationTable } from "../../bench/aggregation_table.ts";
import type { CpuWindow } from "../../bench/cpu_windows.ts";

/** A 10 s window at `percent` of a core, with `reports`. */
const w = (percent: number, reports = 0): CpuWindow => ({
  cpuMs: percent * 100,
  wallMs: 10_000,
  reports,
  behind: 0,
});

const cost = (readers: boolean): AggregationCost => ({
  idle: w(5),
  held: [w(4), w(4)],
  loaded: [w(8, 500)],
  ...(readers ? { readers: { window: w(10, 500), held: [w(4), w(4)] } } : {}),
  exact: true,
  reportBytes: 41_900,
});

Deno.test("aggregation table: title, rows, and the readers' row or why it is missing", () => {
  const setting = { drivers: 50, rate: 1000, seconds: 10 };
  // [name, age, readers measured, expected fragments (in order), fragments that must be absent]
  const table: [string, number, boolean, RegExp[], RegExp[]][] = [
    ["young, with readers", 0, true, [
      /reports of 41\.9 KB from the start of the test/,
      /load \(1\)\s+800\s+8\.0 %\s+500\s+\+4\.0 %\s+0\.80/,
      /load \+ dashboard \+ GET test 1\/s\s+1,000\s+10\.0 %\s+500\s+\+6\.0 %\s+1\.20/,
      /each loaded window: \+4\.0 % to \+4\.0 % of a core, 0\.80 to 0\.80 ms a report/,
      /drivers' own: exact/,
    ], [/not measured/]],
    ["aged, no readers", 600, false, [
      /from 600 s into the test/,
      /load \(1\)\s+800/,
      /load \+ dashboard \+ GET test 1\/s: not measured on an aged test/,
    ], [/1,000\s+10\.0 %/]],
  ];
  for (const [name, ageS, readers, present, absent] of table) {
    const text = aggregationTable(cost(readers), { ...setting, ageS }).join("\n");
    let from = 0;
    for (const re of present) {
      const at = text.slice(from).search(re);
      assert.ok(at >= 0, `${name}: ${re} after position ${from} in\n${text}`);
      from += at;
    }
    for (const re of absent) assert.doesNotMatch(text, re, name);
  }
});

Deno.test("aggregation table: a wrong result says what was wrong", () => {
  const text = aggregationTable(
    { ...cost(false), exact: "orchestrator counted 1/1, the drivers sent 2/2" },
    { drivers: 50, rate: 1000, seconds: 10, ageS: 60 },
  ).join("\n");
  assert.match(text, /WRONG: orchestrator counted 1\/1, the drivers sent 2\/2/);
});
