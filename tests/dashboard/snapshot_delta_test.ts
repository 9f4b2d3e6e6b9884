/**
 * Dashboard deltas: the server's diff (dashboard/snapshot_delta.ts) applied by the browser's own
 * code (dashboard/client/delta.js, loaded here as it is served) gives back exactly the next
 * snapshot, in every way a snapshot changes, and carries only what changed.
 */
import assert from "node:assert/strict";
import "../../dashboard/client/delta.js";
import { buildSnapshot } from "../../dashboard/snapshot.ts";
import { diffSnapshot, type SnapshotDelta } from "../../dashboard/snapshot_delta.ts";
import type { SeriesPoint, Snapshot, TestView, TimeSeries } from "../../shared/api.ts";
import { driver, stats, testView } from "../cli/fixtures.ts";

const { applyDelta } = (globalThis as unknown as {
  SurgeDelta: { applyDelta: (snapshot: Snapshot, delta: SnapshotDelta) => Snapshot };
}).SurgeDelta;

const point = (t: number, responses = 100 * t): SeriesPoint => ({
  t,
  requests: responses,
  responses,
  errors: 0,
  throughput: responses,
  p50: 1,
  p90: 2,
  p99: t % 7,
});
const points = (n: number, from = 1) => Array.from({ length: n }, (_, i) => point(from + i));
const series = (id: string, n: number, drivers = ["one", "two"]): TimeSeries => ({
  test_id: id,
  interval_s: 1,
  overall: points(n),
  drivers: Object.fromEntries(drivers.map((d) => [d, points(n)])),
});
const summary = ({ drivers: _d, ...rest }: TestView) => rest;

function snapshot(time: number, view: TestView, ts: TimeSeries, others: TestView[] = []): Snapshot {
  return {
    time,
    drivers: [driver({ heartbeat_age_ms: time % 1000 })],
    tests: [view, ...others].map(summary),
    current: { test: view, timeseries: ts },
  };
}

const running = testView({ test_id: "run", state: "running", settled: false });
const older = testView({ test_id: "old" });
const base = snapshot(1000, running, series("run", 600), [older]);

/** Each row: a snapshot that follows `base`, and what its delta may carry at most. */
const table: [string, Snapshot, { seriesPoints?: number; changedTests?: number }][] = [
  ["nothing but time changed", { ...base, time: 2000 }, { seriesPoints: 0, changedTests: 0 }],
  ["a new second on every series", snapshot(2000, running, series("run", 601), [older]), {
    seriesPoints: 3,
    changedTests: 0,
  }],
  [
    "the last second grew and a new one came",
    (() => {
      const ts = series("run", 601);
      ts.overall[599] = point(600, 99_999);
      return snapshot(2000, running, ts, [older]);
    })(),
    { seriesPoints: 4 },
  ],
  [
    "a late report changed a second in the middle",
    (() => {
      const ts = series("run", 600);
      ts.drivers.one![300] = point(301, 5);
      return snapshot(2000, running, ts, [older]);
    })(),
    { seriesPoints: 300 },
  ],
  [
    "the running test's numbers changed",
    (() => {
      const view = { ...running, overall: stats({ requests: 7 }) };
      return snapshot(2000, view, series("run", 600), [older]);
    })(),
    { seriesPoints: 0, changedTests: 1 },
  ],
  [
    "a new test came first in the history",
    (() => {
      const fresh = testView({ test_id: "new", state: "created", settled: false });
      return {
        ...snapshot(2000, running, series("run", 600), [older]),
        tests: [fresh, running, older].map(summary),
      };
    })(),
    { changedTests: 1 },
  ],
  ["a test left the history", snapshot(2000, running, series("run", 600)), { changedTests: 0 }],
  [
    "a driver joined the series",
    snapshot(2000, running, series("run", 600, ["one", "two", "three"])),
    {},
  ],
  ["the focus moved to another test", snapshot(2000, older, series("old", 3), [running]), {}],
  ["the focus was lost", { ...base, time: 2000, current: null, missing: "gone" }, {}],
];

for (const [name, next, most] of table) {
  Deno.test(`applyDelta(diffSnapshot()) gives the next snapshot: ${name}`, () => {
    const delta = diffSnapshot(base, next);
    assert.deepEqual(applyDelta(base, delta), next);
    if (most.changedTests !== undefined) {
      assert.equal(delta.tests.changed.length, most.changedTests);
    }
    if (most.seriesPoints !== undefined) {
      assert.ok(!("full" in delta.current), "the same test: its series as tails");
      const { overall, drivers } = (delta.current as {
        series: {
          overall?: { points: unknown[] };
          drivers: Record<string, { points: unknown[] }>;
        };
      }).series;
      const sent = (overall?.points.length ?? 0) +
        Object.values(drivers).reduce((n, t) => n + t.points.length, 0);
      assert.ok(sent <= most.seriesPoints, `${sent} points sent`);
    }
  });
}

Deno.test("applyDelta() leaves the snapshot it was given as it was", () => {
  const before = structuredClone(base);
  applyDelta(base, diffSnapshot(base, snapshot(2000, running, series("run", 601), [older])));
  assert.deepEqual(base, before);
});

Deno.test("a chain of deltas reproduces each snapshot, each far smaller than the whole", () => {
  const source = {
    n: 600,
    drivers: () => [driver()],
    listTests: () => [summary(running), summary(older)],
    getTest: (id: string) => id === "run" ? running : older,
    timeseries: (id: string) => series(id, source.n),
  };
  // As the event stream does: the server keeps what it sent, the browser what it applied.
  let sent = buildSnapshot(source, 0, null);
  let held = structuredClone(sent);
  const whole = JSON.stringify(sent).length;
  for (let k = 1; k <= 5; k++) {
    source.n++;
    const next = buildSnapshot(source, k * 1000, null);
    const delta = diffSnapshot(sent, next);
    held = applyDelta(held, delta);
    sent = next;
    assert.deepEqual(held, next, `after delta ${k}`);
    const size = JSON.stringify(delta).length;
    assert.ok(size < whole / 4, `delta ${k}: ${size} bytes, the whole snapshot ${whole}`);
  }
});
