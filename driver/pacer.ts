/**
 * The pacing timetable, as pure arithmetic on time (vegeta's `Pace(elapsed, hits)`). A paced test
 * schedules global request k at `start + k * interval`; with several workers the slots are dealt
 * round-robin, so worker `offset` of `stride` sends slots offset, offset + stride, ... Times are
 * computed from k (never by adding intervals up), so there is no drift, and a late request does
 * not move any later one.
 */

/** One worker's view of a test's timetable. All times in milliseconds on one monotonic clock. */
export interface Timetable {
  /** When slot 0 is due. */
  startMs: number;
  /** Gap between consecutive global slots; 0 means unpaced (closed model). */
  intervalMs: number;
  /** This worker's first global slot. */
  offset: number;
  /** Number of workers sharing the timetable. */
  stride: number;
}

/** The interval for a test: the Tsunami delay, or 1000/R for an Avalanche at R requests/s. */
export function intervalMs(
  testType: "AVALANCHE" | "TSUNAMI",
  delayMs: number,
  throughput: number | null | undefined,
): number {
  if (testType === "TSUNAMI") return delayMs;
  return throughput != null && throughput > 0 ? 1000 / throughput : 0;
}

/** When this worker's `j`-th request is due. */
export function scheduledAt(t: Timetable, j: number): number {
  return t.startMs + (t.offset + j * t.stride) * t.intervalMs;
}

/**
 * How many of this worker's slots are scheduled strictly before `endMs` (a test's duration
 * bound); Infinity for an unpaced timetable.
 */
export function slotsBefore(t: Timetable, endMs: number): number {
  if (t.intervalMs <= 0) return Infinity;
  const globalSlots = Math.ceil((endMs - t.startMs) / t.intervalMs);
  if (!(globalSlots <= Number.MAX_SAFE_INTEGER)) return Infinity; // beyond counting (or NaN)
  if (!(globalSlots > t.offset)) return 0;
  let n = Math.floor((globalSlots - 1 - t.offset) / t.stride) + 1;
  // Floating point can put a boundary slot on the wrong side; settle it with scheduledAt itself.
  while (n > 0 && scheduledAt(t, n - 1) >= endMs) n--;
  while (scheduledAt(t, n) < endMs) n++;
  return n;
}

/**
 * The shortest time between two wake-ups that send slots. Each wake-up of a paced worker costs a
 * thread hand-off and an event-loop turn, several times the CPU of a request sent at full speed;
 * above 2,000 slots a second per worker, a quantum of 0.5 ms lets one wake-up send every slot
 * that fell due since the last (a 5,000/s test wakes 2,000 times a second, not 5,000), for at
 * most 0.5 ms of send lag, which is counted like any other. wrk2's timers have a whole
 * millisecond's grain.
 */
export const WAKE_QUANTUM_MS = 0.5;

/**
 * When a paced worker should wake for its slot `next`: when it is due, but no sooner than
 * {@link WAKE_QUANTUM_MS} after `sentAtMs`, the last wake-up that sent a slot. A slot due inside
 * the window (before `endMs`) whose quantum would end after it is woken for when due: nothing is
 * sent at or after the end, so waiting longer would drop it.
 */
export function wakeAt(t: Timetable, next: number, sentAtMs: number, endMs: number): number {
  const due = scheduledAt(t, next);
  const later = sentAtMs + WAKE_QUANTUM_MS;
  return later > due && later < endMs ? later : due;
}

/**
 * How far behind its slot a request may go out before it counts as late, whatever the interval:
 * timers and the event loop add a millisecond or two of jitter on their own, so 2 ms separates a
 * slipping timetable from a coarse wake-up.
 */
export const LATE_TOLERANCE_MS = 2;
