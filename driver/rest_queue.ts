/**
 * The closed model's rests after failed connects, on one timer. A timer per resting connection
 * cost an event-loop wake-up each: a worker whose thousand connections rest in step (they all
 * failed together) woke a thousand times per round, about 30 µs of CPU each, as much as the
 * refused dials the rests replaced. One timer at the earliest deadline wakes, each time, every
 * rest that is due, never one early.
 */

interface Sleeper {
  atMs: number;
  wake: () => void;
}

/** Rests that end at a time (performance.now() ms), or all at once on {@link wakeAll}. */
export class RestQueue {
  /** A binary min-heap by `atMs`. */
  #heap: Sleeper[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer is due; Infinity when none is. */
  #armedAt = Infinity;

  /** Number of rests not yet over. */
  get size(): number {
    return this.#heap.length;
  }

  /** Resolves at `atMs` or later, or on {@link wakeAll}. */
  until(atMs: number): Promise<void> {
    return new Promise((wake) => {
      this.#push({ atMs, wake });
      this.#arm();
    });
  }

  /** Ends every rest now (a stop, or the target accepting connections again). */
  wakeAll(): void {
    const sleepers = this.#heap;
    this.#heap = [];
    this.#disarm();
    for (const s of sleepers) s.wake();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = performance.now();
    // A timer may fire a hair early by performance.now(): what is not due yet waits for the next.
    while (this.#heap.length > 0 && this.#heap[0]!.atMs <= now) this.#pop().wake();
    this.#arm();
  }

  #arm(): void {
    const next = this.#heap[0]?.atMs ?? Infinity;
    if (next >= this.#armedAt) return;
    this.#disarm();
    if (next === Infinity) return;
    this.#armedAt = next;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, next - performance.now()));
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  #push(s: Sleeper): void {
    const h = this.#heap;
    let i = h.push(s) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.atMs <= s.atMs) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = s;
  }

  #pop(): Sleeper {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && h[r]!.atMs < h[l]!.atMs ? r : l;
      if (h[c]!.atMs >= last.atMs) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
