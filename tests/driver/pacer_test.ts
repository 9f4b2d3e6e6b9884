import assert from "node:assert/strict";
import {
  intervalMs,
  scheduledAt,
  slotsBefore,
  type Timetable,
  WAKE_QUANTUM_MS,
  wakeAt,
} from "../../driver/pacer.ts";

const one = (interval: number, start = 1000): Timetable => ({
  startMs: start,
  intervalMs: interval,
  offset: 0,
  stride: 1,
});

Deno.test("intervalMs() turns a test config into the timetable's interval", () => {
  const table: [Parameters<typeof intervalMs>, number][] = [
    [["TSUNAMI", 10, null], 10],
    [["TSUNAMI", 0.5, undefined], 0.5],
    [["AVALANCHE", 0, null], 0],
    [["AVALANCHE", 0, undefined], 0],
    [["AVALANCHE", 0, 1000], 1],
    [["AVALANCHE", 0, 3], 1000 / 3],
    [["AVALANCHE", 0, 0.5], 2000],
    [["AVALANCHE", 0, 10_000_000], 0.0001],
  ];
  for (const [args, want] of table) assert.equal(intervalMs(...args), want, String(args));
});

Deno.test("scheduledAt() is start + slot * interval, with no drift over many slots", () => {
  const table: [Timetable, number, number][] = [
    [one(0), 0, 1000],
    [one(0), 1e9, 1000], // unpaced: everything due at once
    [one(10), 0, 1000],
    [one(10), 3, 1030],
    [one(1000 / 3), 3, 2000],
    [one(1000 / 3), 3_000_000, 1000 + 1e9],
    [one(0.0001), 10_000_000, 2000],
    [one(3_600_000), 2 ** 31, 1000 + 3_600_000 * 2 ** 31],
    // worker 2 of 3 sends global slots 2, 5, 8, ...
    [{ startMs: 0, intervalMs: 10, offset: 2, stride: 3 }, 0, 20],
    [{ startMs: 0, intervalMs: 10, offset: 2, stride: 3 }, 2, 80],
  ];
  for (const [t, j, want] of table) {
    const got = scheduledAt(t, j);
    assert.ok(Math.abs(got - want) <= Math.abs(want) * 1e-12, `slot ${j}: ${got} vs ${want}`);
  }
});

Deno.test("slotsBefore() counts a worker's slots inside a duration, exactly at the edges", () => {
  const table: [Timetable, number, number][] = [
    [one(10), 1000, 0], // zero duration
    [one(10), 999, 0],
    [one(10), 1001, 1],
    [one(10), 1010, 1], // slot 1 at exactly the end is not inside
    [one(10), 1010.0001, 2],
    [one(1000 / 3), 2000, 3],
    [one(0.1), 2000, 10_000], // 10k rps for 1 s
    [one(0.02), 2000, 50_000], // 50k rps for 1 s
    [one(0), 2000, Infinity],
    [one(1e-300), 2000, Infinity], // more slots than can be counted
    [{ startMs: 0, intervalMs: 1, offset: 0, stride: 3 }, 10, 4], // slots 0 3 6 9
    [{ startMs: 0, intervalMs: 1, offset: 1, stride: 3 }, 10, 3], // 1 4 7
    [{ startMs: 0, intervalMs: 1, offset: 2, stride: 3 }, 10, 3], // 2 5 8
    [{ startMs: 0, intervalMs: 1, offset: 2, stride: 3 }, 2, 0],
  ];
  for (const [t, end, want] of table) {
    assert.equal(slotsBefore(t, end), want, `${JSON.stringify(t)} end ${end}`);
  }
});

Deno.test("wakeAt() wakes for a slot when due, but at most once per quantum, never past the end", () => {
  const q = WAKE_QUANTUM_MS;
  // [interval, next slot, last wake that sent, window end, expected wake]; start 1000.
  const table: [number, number, number, number, number][] = [
    [10, 1, 1000, Infinity, 1010], // slots far apart: when due
    [1, 1, 1000, Infinity, 1001], // exactly as far apart as the quantum allows
    [0.2, 1, 1000, Infinity, 1000 + q], // 5,000/s: the quantum after the last send
    [0.2, 9, 1001, Infinity, 1001.8], // due later than the quantum: when due
    [0.2, 1, -Infinity, Infinity, 1000.2], // nothing sent yet
    [0.2, 1, 1000, 1000 + q, 1000.2], // the quantum ends at the window's end: when due
    [0.2, 1, 1000, 1000.4, 1000.2], // the quantum ends past it: when due, not dropped
    [0.2, 1, 1000, 1000 + q + 0.01, 1000 + q], // the quantum ends inside the window
  ];
  for (const [interval, next, sentAt, endMs, expected] of table) {
    assert.equal(
      wakeAt(one(interval), next, sentAt, endMs),
      expected,
      `interval ${interval}, slot ${next}, sent at ${sentAt}, end ${endMs}`,
    );
  }
});
