/**
 * What `tc netem delay D loss P` does to a link, as a pure first-in first-out line: each frame
 * offered is dropped with probability P or held for D ms. Used by the lab's userspace wire
 * (tests/support/tap_wire.ts) on kernels built without sch_netem. Frames leave in the order they
 * came, even when the delay is lowered while some wait, so TCP sees delay and loss but never
 * reordering.
 */

/** The impairment of one direction of a link. */
export interface Impairment {
  /** Added one-way delay in ms. */
  delayMs: number;
  /** Probability in [0, 1] that a frame is dropped. */
  loss: number;
}

/** No delay, no loss. */
export const CLEAR: Impairment = { delayMs: 0, loss: 0 };

/** Frames waiting for their time, oldest first. */
export class DelayLine<T> {
  #queue: { due: number; item: T }[] = [];
  #random: () => number;
  /** Frames offered and frames dropped, since the start. */
  offered = 0;
  dropped = 0;

  /** `random` returns a number in [0, 1), as Math.random does (injected for tests). */
  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  /** Offers a frame at `now` (ms); false when the impairment drops it. */
  push(item: T, now: number, impairment: Impairment): boolean {
    this.offered++;
    if (impairment.loss > 0 && this.#random() < impairment.loss) {
      this.dropped++;
      return false;
    }
    this.#queue.push({ due: now + impairment.delayMs, item });
    return true;
  }

  /** The frames whose time has come by `now`, in order; a frame not yet due holds those behind. */
  take(now: number): T[] {
    let n = 0;
    while (n < this.#queue.length && this.#queue[n]!.due <= now) n++;
    return this.#queue.splice(0, n).map((q) => q.item);
  }

  /** Milliseconds from `now` until the first waiting frame is due (0 if it is), or undefined. */
  nextIn(now: number): number | undefined {
    const first = this.#queue[0];
    return first === undefined ? undefined : Math.max(0, first.due - now);
  }
}
