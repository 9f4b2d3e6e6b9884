/**
 * A worker's load engine: its share of connections, driven either back to back (closed model:
 * each connection sends its next request when the previous one is answered) or by the timetable
 * (open model: slot j goes out at its scheduled time on whichever connection is free, and a slow
 * response never pushes later slots back). A sweeper enforces the per-request timeout without a
 * timer per request.
 *
 * The test's window is hard: no request starts at or after `endMs`, nor after a stop. A paced
 * slot inside the window that could not be sent by then is dropped, never sent late past the end.
 *
 * The connections share one {@link DialGate}, so a target that refuses connections is dialled by
 * one probe per backoff pause, not by every connection (see driver/dial_gate.ts).
 */
import { sleep } from "../shared/async.ts";
import {
  type Budget,
  CONNECT_FAILED,
  Connection,
  type ConnectionSetup,
  type SendOutcome,
} from "./connection.ts";
import { DialGate } from "./dial_gate.ts";
import { RestQueue } from "./rest_queue.ts";
import { LATE_TOLERANCE_MS, scheduledAt, slotsBefore, type Timetable, wakeAt } from "./pacer.ts";
import type { Recorder } from "./recorder.ts";
import type { Waker } from "./ticker.ts";

/** What one worker runs. Times are performance.now() milliseconds of the worker's own clock. */
export interface EngineOptions extends ConnectionSetup {
  connections: number;
  /** Requests to send; Infinity for no count limit. */
  count: number;
  /** A precise wake-up for paced tests (driver/ticker.ts); without one, plain timers. */
  createWaker?: (onWake: () => void) => Waker;
}

/** When the engine runs: its timetable (intervalMs 0: unpaced) and the end of its window. */
export interface EngineWindow {
  timetable: Timetable;
  /** No request starts at or after this time; Infinity for no duration limit. */
  endMs: number;
}

/** Runs one worker's share of a test; {@link run} resolves when every request has ended. */
export class Engine implements Budget {
  #opts: EngineOptions;
  #rec: Recorder;
  #connections: Connection[];
  #window: EngineWindow | undefined;
  #stopped = false;
  /** When stop() was called (performance.now()); Infinity while not stopped. */
  #stopAt = Infinity;
  #remaining: number;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  /** The closed model's connections resting after a failed connect; a stop wakes them. */
  #resting = new RestQueue();
  /** Opening, it wakes the resting connections: a target that accepts again is used at once. */
  #gate = new DialGate(() => this.#resting.wakeAll());
  // Paced state.
  /** Indexes of the connections with no request in flight, used last-in first-out. */
  #idle: number[] = [];
  /**
   * Idle connections whose last connect failed, oldest failure first: a slot goes to them only
   * when no other connection is free, so while the gate is shut they cannot take (and fail at
   * once) slots that a working one could send, and the one that failed longest ago goes first.
   */
  #failedIdle: number[] = [];
  #failedHead = 0;
  #onAnswered: ((outcome: SendOutcome) => void)[] = [];
  #next = 0;
  #limit = 0;
  #active = 0;
  /** Slots before this index have been counted as queued already. */
  #queuedUpTo = 0;
  /** When a wake-up last sent a slot (pacer.ts's wakeAt). */
  #sentAt = -Infinity;
  #waker: Waker | undefined;
  #finish: (() => void) | undefined;

  constructor(opts: EngineOptions, rec: Recorder) {
    this.#opts = opts;
    this.#rec = rec;
    this.#remaining = opts.count;
    this.#connections = Array.from(
      { length: opts.connections },
      () => new Connection(opts, rec, this.#gate),
    );
  }

  /**
   * Opens every connection ahead of the start; failures are left for the first requests. One
   * connection dials first, alone: if the target refuses it, the gate shuts and the others do not
   * dial a target known to refuse (one connect's wait more before the start, against a thousand
   * refused dials).
   */
  async warm(): Promise<void> {
    this.#startSweeper();
    const [first, ...others] = this.#connections;
    await first?.warm();
    await Promise.all(others.map((c) => c.warm()));
  }

  /** Sends no new request; those in flight finish or time out. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopAt = performance.now();
    this.#resting.wakeAll();
    if (this.#finish !== undefined) this.#pump();
  }

  /** Runs the test in `window` to its end (count, duration or stop). */
  async run(window: EngineWindow): Promise<void> {
    this.#window = window;
    this.#startSweeper();
    try {
      if (window.timetable.intervalMs > 0) await this.#runPaced(window.timetable);
      else await this.#runClosed(window.timetable.startMs);
    } finally {
      clearInterval(this.#sweeper);
      for (const c of this.#connections) c.close();
    }
  }

  #startSweeper(): void {
    if (this.#sweeper !== undefined) return;
    const sweepMs = Math.min(200, Math.max(5, this.#opts.timeoutMs / 20));
    this.#sweeper = setInterval(() => this.#sweep(), sweepMs);
  }

  #sweep(): void {
    const now = performance.now();
    for (const c of this.#connections) {
      if (c.deadline !== 0 && c.deadline <= now) c.expire();
    }
  }

  /** The closed model's budget: a request is granted while count, stop and duration allow. */
  grant(nowMs: number): boolean {
    if (this.#stopped || this.#remaining <= 0 || nowMs >= this.#window!.endMs) return false;
    this.#remaining--;
    return true;
  }

  /**
   * The closed model's pause after a failed connect, cut short by a stop, the window's end or the
   * gate opening.
   */
  rest(ms: number): Promise<void> {
    // Cut short by the window's end, it wakes 2 ms after it: a timer may fire a hair early by
    // performance.now(), and a wake-up before the end would be granted one more dial.
    const now = performance.now();
    const wait = Math.min(ms, this.#window!.endMs - now + 2);
    if (this.#stopped || !(wait > 0)) return Promise.resolve();
    return this.#resting.until(now + wait);
  }

  async #runClosed(startMs: number): Promise<void> {
    const wait = startMs - performance.now();
    if (wait > 0) await sleep(wait);
    const now = performance.now();
    await Promise.all(
      this.#connections.map((c) => this.grant(now) ? c.send(NaN, this) : undefined),
    );
  }

  #runPaced(t: Timetable): Promise<void> {
    this.#limit = Math.min(this.#opts.count, slotsBefore(t, this.#window!.endMs));
    this.#idle = this.#connections.map((_, i) => i);
    // One callback per connection, made once, so dispatching a request allocates no closure.
    this.#onAnswered = this.#connections.map((_, i) => (outcome: SendOutcome) => {
      this.#active--;
      if (outcome === CONNECT_FAILED) this.#failedIdle.push(i);
      else this.#idle.push(i);
      this.#pump();
    });
    const onWake = () => this.#pump();
    const waker = this.#opts.createWaker?.(onWake) ?? timerWaker(onWake);
    this.#waker = waker;
    return new Promise<void>((resolve) => {
      this.#finish = () => {
        waker.close();
        this.#rec.dropped += this.#dropped(t);
        resolve();
      };
      this.#pump();
    });
  }

  /** Sends every slot that is due on the free connections, then arranges to wake for the next. */
  #pump(): void {
    if (this.#finish === undefined) return;
    const t = this.#window!.timetable;
    const now = performance.now();
    if (this.#stopped || this.#next >= this.#limit || now >= this.#window!.endMs) {
      if (this.#active === 0) {
        const finish = this.#finish;
        this.#finish = undefined;
        finish();
      }
      return;
    }
    const rec = this.#rec;
    while (this.#next < this.#limit && this.#hasIdle()) {
      const at = scheduledAt(t, this.#next);
      if (at > now) break;
      const i = this.#takeIdle();
      this.#sentAt = now;
      rec.sent((now - at) * 1000, now - at > LATE_TOLERANCE_MS);
      this.#next++;
      this.#active++;
      this.#connections[i]!.send(at).then(this.#onAnswered[i]);
    }
    if (this.#next >= this.#limit) {
      if (this.#active === 0) this.#pump();
      return;
    }
    if (this.#hasIdle()) {
      this.#waker!.wakeAt(wakeAt(t, this.#next, this.#sentAt, this.#window!.endMs));
    } else if (scheduledAt(t, this.#next) <= now) this.#countQueued(t, now);
  }

  #hasIdle(): boolean {
    return this.#idle.length > 0 || this.#failedHead < this.#failedIdle.length;
  }

  /** A free connection: a working one if any, else the one whose connect failed longest ago. */
  #takeIdle(): number {
    if (this.#idle.length > 0) return this.#idle.pop()!;
    const i = this.#failedIdle[this.#failedHead++]!;
    if (this.#failedHead === this.#failedIdle.length) {
      // Drained: start the queue over rather than let it grow by one slot per failure.
      this.#failedIdle.length = 0;
      this.#failedHead = 0;
    }
    return i;
  }

  /** Counts, once each, the slots that are due while every connection is busy. */
  #countQueued(t: Timetable, now: number): void {
    const due = Math.min(this.#limit, slotsBefore(t, now));
    const from = Math.max(this.#next, this.#queuedUpTo);
    if (due > from) {
      this.#rec.queued += due - from;
      this.#queuedUpTo = due;
    }
  }

  /** Slots of the window (cut short by a stop) that were never sent. */
  #dropped(t: Timetable): number {
    const end = Math.min(this.#window!.endMs, this.#stopAt);
    const offered = Math.min(this.#limit, slotsBefore(t, end));
    return Math.max(0, offered - this.#next);
  }
}

/** A {@link Waker} on plain timers (1-2 ms late here), for when no ticker thread is wanted. */
function timerWaker(onWake: () => void): Waker {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let armed = Infinity;
  return {
    wakeAt(atMs) {
      if (timer !== undefined && armed <= atMs) return;
      clearTimeout(timer);
      armed = atMs;
      timer = setTimeout(() => {
        timer = undefined;
        armed = Infinity;
        onWake();
      }, Math.max(0, atMs - performance.now()));
    },
    close: () => clearTimeout(timer),
  };
}
