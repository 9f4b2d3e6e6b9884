/**
 * What changed between two dashboard snapshots, so the event stream pushes the whole state once
 * and then only what is new each second: a long test's time series is tens of thousands of
 * points, and resending all of them every second to every open dashboard is what made its cost
 * grow with the test's age. The browser applies a delta with `client/delta.js`; applying the
 * deltas in order to the first snapshot gives exactly the snapshot of the moment.
 *
 * - `drivers` and the focused test's own state (`current.test`) are small: sent whole.
 * - The history (`tests`): its ids in order, and only the entries that are new or changed.
 * - Every series (overall, each driver): a {@link SeriesTail} — the points kept, then the points
 *   from the first one that changed. Points only change near the end (the newest seconds), so
 *   the tail is a point or two.
 * - A new test in focus, or a change in which drivers have a series: `current.full`, whole.
 */
import type {
  Driver,
  Report,
  SeriesPoint,
  Snapshot,
  TestSummary,
  TestView,
} from "../shared/api.ts";

/** A series as the previous one's first `keep` points followed by `points`. */
export interface SeriesTail {
  keep: number;
  points: SeriesPoint[];
}

/** The focused test: whole when it is another test, else its state and its series' tails. */
export type CurrentDelta =
  | { full: Report | null }
  | {
    test: TestView;
    /** Only the series that changed. */
    series: { overall?: SeriesTail; drivers: Record<string, SeriesTail> };
  };

/** One push after the first of an event stream. */
export interface SnapshotDelta {
  time: number;
  drivers: Driver[];
  tests: { ids: string[]; changed: TestSummary[] };
  current: CurrentDelta;
  missing?: string;
}

/** The delta that turns `previous` into `next`. */
export function diffSnapshot(previous: Snapshot, next: Snapshot): SnapshotDelta {
  const before = new Map(previous.tests.map((t) => [t.test_id, JSON.stringify(t)]));
  const delta: SnapshotDelta = {
    time: next.time,
    drivers: next.drivers,
    tests: {
      ids: next.tests.map((t) => t.test_id),
      changed: next.tests.filter((t) => before.get(t.test_id) !== JSON.stringify(t)),
    },
    current: diffCurrent(previous.current, next.current),
  };
  if (next.missing !== undefined) delta.missing = next.missing;
  return delta;
}

function diffCurrent(previous: Report | null, next: Report | null): CurrentDelta {
  if (previous === null || next === null || previous.test.test_id !== next.test.test_id) {
    return { full: next };
  }
  const before = previous.timeseries.drivers;
  const after = next.timeseries.drivers;
  const ids = Object.keys(after);
  if (ids.join("\n") !== Object.keys(before).join("\n")) return { full: next };
  const series: { overall?: SeriesTail; drivers: Record<string, SeriesTail> } = { drivers: {} };
  const overall = tail(previous.timeseries.overall, next.timeseries.overall);
  if (overall !== undefined) series.overall = overall;
  for (const id of ids) {
    const driver = tail(before[id]!, after[id]!);
    if (driver !== undefined) series.drivers[id] = driver;
  }
  return { test: next.test, series };
}

/** The points of `next` from the first that differs from `previous`; undefined: no change. */
function tail(previous: SeriesPoint[], next: SeriesPoint[]): SeriesTail | undefined {
  const common = Math.min(previous.length, next.length);
  let keep = 0;
  while (keep < common && samePoint(previous[keep]!, next[keep]!)) keep++;
  if (keep === next.length && keep === previous.length) return undefined;
  return { keep, points: next.slice(keep) };
}

/** Points are flat records of numbers (and nulls); the aggregator reuses unchanged ones. */
function samePoint(a: SeriesPoint, b: SeriesPoint): boolean {
  if (a === b) return true;
  const keys = Object.keys(a) as (keyof SeriesPoint)[];
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => a[k] === b[k]);
}
