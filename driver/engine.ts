/**
 * A worker's load engine: its share of connections, driven either back to back (closed model:
 * each connection sends its next request when the previous one is answered) or by the timetable
 * (open model: slot j goes out at its scheduled time on whichever connection is free, and a slow
 * response never pushes later slots back). A sweeper enforces the per-request timeout without a
 * timer per request.
 */
import { type Budget, Connection, type Dial, type SendOutcome } from "./connection.ts";
import { lateAfterMs, scheduledAt, slotsBefore, type Timetable } from "./pacer.ts";
import type { Recorder } from "./recorder.ts";
import type { Waker } from "./ticker.ts";

/** What one worker runs. Times are performance.now() milliseconds of the worker's own clock. */
export interface EngineOptions {
  dial: Dial;
  request: Uint8Array;
  /** The request is HEAD: responses carry no body. */
  head: boolean;
  connections: number;
  /** Requests to send; Infinity for no count limit. */
  count: number;
  /** Slot times (intervalMs 0: unpaced, everything starts at startMs). */
  timetable: Timetable;
  /** No request starts at or after this time; Infinity for no duration limit. */
  endMs: number;
  timeoutMs: number;
  /** A precise wake-up for paced tests (driver/ticker.ts); without one, plain timers. */
  createWaker?: (onWake: () => void) => Waker;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs one worker's share of a test; {@link run} resolves when every request has ended. */
export class Engine implements Budget {
  #opts: EngineOptions;
  #rec: Recorder;
  #connections: Connection[];
  #stopped = false;
  #remaining: number;
  // Paced state.
  /** Indexes of the connections with no request in flight. */
  #idle: number[] = [];
  #onAnswered: ((outcome: SendOutcome) => void)[] = [];
  #next = 0;
  #limit = 0;
  #active = 0;
  #lateAfter = 0;
  #waker: Waker | undefined;
  #finish: (() => void) | undefined;

  constructor(opts: EngineOptions, rec: Recorder) {
    this.#opts = opts;
    this.#rec = rec;
    this.#remaining = opts.count;
    this.#connections = Array.from(
      { length: opts.connections },
      () => new Connection(opts.dial, opts.request, opts.head, opts.timeoutMs, rec),
    );
  }

  /** Sends no new request; those in flight finish or time out. */
  stop(): void {
    this.#stopped = true;
    if (this.#finish !== undefined) this.#pump();
  }

  /** Runs the test to its end (count, duration or stop). */
  async run(): Promise<void> {
    const sweepMs = Math.min(200, Math.max(5, this.#opts.timeoutMs / 20));
    const sweeper = setInterval(() => this.#sweep(), sweepMs);
    try {
      if (this.#opts.timetable.intervalMs > 0) await this.#runPaced();
      else await this.#runClosed();
    } finally {
      clearInterval(sweeper);
      for (const c of this.#connections) c.close();
    }
  }

  #sweep(): void {
    const now = performance.now();
    for (const c of this.#connections) {
      if (c.deadline !== 0 && c.deadline <= now) c.expire();
    }
  }

  /** The closed model's budget: a request is granted while count, stop and duration allow. */
  take(nowMs: number): boolean {
    if (this.#stopped || this.#remaining <= 0 || nowMs >= this.#opts.endMs) return false;
    this.#remaining--;
    return true;
  }

  async #runClosed(): Promise<void> {
    const wait = this.#opts.timetable.startMs - performance.now();
    if (wait > 0) await sleep(wait);
    const now = performance.now();
    await Promise.all(this.#connections.map((c) => this.take(now) ? c.send(NaN, this) : undefined));
  }

  #runPaced(): Promise<void> {
    const t: Timetable = this.#opts.timetable;
    this.#limit = Math.min(this.#opts.count, slotsBefore(t, this.#opts.endMs));
    this.#lateAfter = lateAfterMs(t.intervalMs);
    this.#idle = this.#connections.map((_, i) => i);
    // One callback per connection, made once, so dispatching a request allocates no closure.
    this.#onAnswered = this.#connections.map((_, i) => () => {
      this.#active--;
      this.#idle.push(i);
      this.#pump();
    });
    const onWake = () => this.#pump();
    const waker = this.#opts.createWaker?.(onWake) ?? timerWaker(onWake);
    this.#waker = waker;
    return new Promise<void>((resolve) => {
      this.#finish = () => {
        waker.close();
        resolve();
      };
      this.#pump();
    });
  }

  /** Sends every slot that is due on the free connections, then arranges to wake for the next. */
  #pump(): void {
    if (this.#finish === undefined) return;
    const t = this.#opts.timetable;
    if (this.#stopped || this.#next >= this.#limit) {
      if (this.#active === 0) {
        const finish = this.#finish;
        this.#finish = undefined;
        finish();
      }
      return;
    }
    const now = performance.now();
    while (this.#next < this.#limit && this.#idle.length > 0) {
      const at = scheduledAt(t, this.#next);
      if (at > now) break;
      const i = this.#idle.pop()!;
      if (now - at > this.#lateAfter) this.#rec.late++;
      this.#next++;
      this.#active++;
      this.#connections[i]!.send(at).then(this.#onAnswered[i]);
    }
    if (this.#next >= this.#limit) {
      if (this.#active === 0) this.#pump();
      return;
    }
    if (this.#idle.length > 0) this.#wake(scheduledAt(t, this.#next) - now);
  }

  #wake(waitMs: number): void {
    this.#waker!.wakeAt(performance.now() + waitMs);
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
