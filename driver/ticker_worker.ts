/// <reference lib="deno.worker" />
/**
 * The precise alarm clock behind driver/ticker.ts: a thread that sleeps in `Atomics.wait` until
 * the armed time, then posts one tick on the port it was given. Timers on this machine fire 1-2 ms
 * late; this wakes within ~0.2 ms, which keeps latency measured from the scheduled time honest.
 */
import type { TickerInit } from "./ticker.ts";

self.onmessage = (event: MessageEvent<TickerInit>) => {
  const { shared, port } = event.data;
  // [0] arm sequence (bumped on every change), [1] stop flag; then the armed time as a float64.
  const state = new Int32Array(shared, 0, 2);
  const armed = new Float64Array(shared, 8, 1);
  // One tick per arming (by sequence, not by time): the load worker may ask again for the time
  // it was just woken for, when by its own clock the tick came a hair early, and must get it.
  let firedSeq = -1;
  while (Atomics.load(state, 1) === 0) {
    const seq = Atomics.load(state, 0);
    const due = armed[0]!;
    const now = performance.timeOrigin + performance.now();
    const pending = due > 0 && seq !== firedSeq;
    if (pending && due <= now) {
      firedSeq = seq;
      port.postMessage(0);
      continue;
    }
    Atomics.wait(state, 0, seq, pending ? due - now : Infinity);
  }
  port.close();
  self.close();
};

self.postMessage("ready");
