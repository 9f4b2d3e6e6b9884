// surge dashboard: applies a delta pushed over /dashboard/events to the snapshot the page holds
// (the server builds deltas in dashboard/snapshot_delta.ts, which describes their shape). A
// classic browser script with no dependencies; it defines `globalThis.SurgeDelta`.
"use strict";
(() => {
  /** The series `keep` points of `points` kept, then the tail's points. */
  const applyTail = (points, tail) =>
    tail ? points.slice(0, tail.keep).concat(tail.points) : points;

  function applyCurrent(current, delta) {
    if ("full" in delta) return delta.full;
    const { overall, drivers } = current.timeseries;
    const next = {};
    for (const id of Object.keys(drivers)) {
      next[id] = applyTail(drivers[id], delta.series.drivers[id]);
    }
    return {
      test: delta.test,
      timeseries: {
        ...current.timeseries,
        overall: applyTail(overall, delta.series.overall),
        drivers: next,
      },
    };
  }

  /** The snapshot after `delta`; `snapshot` itself is left as it was. */
  function applyDelta(snapshot, delta) {
    const known = new Map(snapshot.tests.map((t) => [t.test_id, t]));
    for (const t of delta.tests.changed) known.set(t.test_id, t);
    const next = {
      time: delta.time,
      drivers: delta.drivers,
      tests: delta.tests.ids.map((id) => known.get(id)),
      current: applyCurrent(snapshot.current, delta.current),
    };
    if (delta.missing !== undefined) next.missing = delta.missing;
    return next;
  }

  globalThis.SurgeDelta = { applyDelta };
})();
