/** The aggregation section's table, from one run of bench/aggregation_cost.ts. */
import type { AggregationCost, AggregationOptions } from "./aggregation_cost.ts";
import {
  type Added,
  type CpuWindow,
  meanWindow,
  percentOfCore,
  pooled,
  sandwiched,
} from "./cpu_windows.ts";
import { fmt, pad } from "./runner.ts";

/** What the run measured, for the table's title. */
export type AggregationSetting = Pick<AggregationOptions, "drivers" | "rate" | "seconds" | "ageS">;

const pct = (x: number) => `${x.toFixed(1)} %`;

const range = (xs: number[], f: (x: number) => string) =>
  `${f(Math.min(...xs))} to ${f(Math.max(...xs))}`;

const row = (name: string, w: CpuWindow, added?: Added) =>
  pad(name, 34) + pad(fmt(w.cpuMs), 9) + pad(pct(percentOfCore(w)), 12) + pad(fmt(w.reports), 9) +
  (added
    ? pad(`+${pct(added.percent)}`, 13) + pad(added.msPerReport.toFixed(2), 15) +
      (w.behind > 2 ? `${w.behind} reports` : "-")
    : "");

/** The table's lines. */
export function aggregationTable(cost: AggregationCost, setting: AggregationSetting): string[] {
  const { drivers, rate, seconds, ageS } = setting;
  const { held, loaded, readers } = cost;
  const each = sandwiched(held, loaded);
  return [
    `\nAggregation cost: ${drivers} synthetic drivers × 1 report/s (${fmt(rate)} requests/s ` +
    `each, reports of ${(cost.reportBytes / 1000).toFixed(1)} KB from ` +
    `${
      ageS > 0 ? `${fmt(ageS)} s into the test` : "the start of the test"
    }), orchestrator CPU (user + sys) over ${seconds} s windows; each loaded window ` +
    `against the held windows (test running, reports held) on both sides of it`,
    `${pad("window (mean of those measured)", 34)}${pad("CPU ms", 9)}${pad("of a core", 12)}${
      pad("reports", 9)
    }${pad("added", 13)}${pad("CPU ms/report", 15)}fell behind by`,
    row(`idle: ${drivers} drivers, no test running`, cost.idle),
    row(`held (${held.length}): test running`, meanWindow(held)),
    row(`load (${loaded.length})`, meanWindow(loaded), pooled(held, loaded)),
    readers
      ? row(
        "load + dashboard + GET test 1/s",
        readers.window,
        pooled(readers.held, [readers.window]),
      )
      : "load + dashboard + GET test 1/s: not measured on an aged test",
    `each loaded window: ${range(each.map((a) => a.percent), (x) => `+${pct(x)}`)} of a core, ` +
    `${range(each.map((a) => a.msPerReport), (x) => x.toFixed(2))} ms a report`,
    `totals and merged latency against the drivers' own: ${
      cost.exact === true ? "exact" : `WRONG: ${cost.exact}`
    }`,
  ];
}
