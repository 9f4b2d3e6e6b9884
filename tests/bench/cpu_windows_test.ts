import assert from "node:assert/strict";
import { type CpuWindow, meanWindow, pooled, sandwiched } from "../../bench/cpu_windows.ts";

/** A window of `wallMs` at `percent` of a core, with `reports`. */
const w = (percent: number, reports = 0, wallMs = 10_000, behind = 0): CpuWindow => ({
  cpuMs: percent / 100 * wallMs,
  wallMs,
  reports,
  behind,
});

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);

Deno.test("sandwiched: each loaded window against the mean of its held neighbours", () => {
  // [name, held, loaded, each window's added % and ms a report, pooled % and ms a report]
  const table: [string, CpuWindow[], CpuWindow[], [number, number][], [number, number]][] = [
    ["no drift", [w(4), w(4)], [w(7, 500)], [[3, 0.6]], [3, 0.6]],
    // The machine's load rises 1 % a window: a baseline from one side would be 0.5 % off.
    ["a steady drift cancels", [w(4), w(5), w(6)], [w(7.5, 500), w(8.5, 500)], [[3, 0.6], [
      3,
      0.6,
    ]], [3, 0.6]],
    // Pooled: the extra CPU of all windows over all their reports, not a mean of the ratios.
    ["windows that differ", [w(4), w(4), w(4)], [w(6, 500), w(9, 1000, 20_000)], [
      [2, 0.4],
      [5, 1],
    ], [4, 1200 / 1500]],
    ["a loaded window that cost less than its baseline", [w(5), w(5)], [w(4, 500)], [[-1, -0.2]], [
      -1,
      -0.2,
    ]],
  ];
  for (const [name, held, loaded, each, [percent, ms]] of table) {
    const got = sandwiched(held, loaded);
    assert.equal(got.length, each.length, name);
    got.forEach((added, i) => {
      close(added.percent, each[i]![0], `${name}, window ${i}: %`);
      close(added.msPerReport, each[i]![1], `${name}, window ${i}: ms a report`);
    });
    const all = pooled(held, loaded);
    close(all.percent, percent, `${name}, pooled %`);
    close(all.msPerReport, ms, `${name}, pooled ms a report`);
  }
});

Deno.test("sandwiched: every loaded window needs a held one on each side", () => {
  for (const held of [[], [w(4)], [w(4), w(4), w(4)]]) {
    assert.throws(() => sandwiched(held, [w(7, 500)]), RangeError, `${held.length} held`);
    assert.throws(() => pooled(held, [w(7, 500)]), RangeError, `${held.length} held`);
  }
});

Deno.test("meanWindow: the mean of each measure, and the worst lag", () => {
  assert.deepEqual(meanWindow([w(4, 0, 10_000, 1), w(6, 10, 20_000, 3)]), {
    cpuMs: 800,
    wallMs: 15_000,
    reports: 5,
    behind: 3,
  });
});
