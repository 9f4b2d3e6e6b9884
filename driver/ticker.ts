/**
 * A precise wake-up for the pacing engine. Timers fire 1-2 ms late here, so a paced test gets a
 * small ticker thread per load worker (driver/ticker_worker.ts) that sleeps in `Atomics.wait`.
 * The main thread spawns it (a worker spawned from inside a worker takes ~1 s to start in Deno)
 * and hands the load worker the shared memory to arm it and a port to receive its ticks.
 */

/** What the ticker thread and the load worker share. */
export interface TickerInit {
  /** 16 bytes: Int32 arm sequence, Int32 stop flag, Float64 armed time (epoch-origin ms). */
  shared: SharedArrayBuffer;
  /** Ticks travel on this port (the other end goes to the load worker). */
  port: MessagePort;
}

/** Something that calls back at (or just after) a requested time. */
export interface Waker {
  /** Asks for a callback at `atMs` (performance.now() of this thread); replaces earlier asks. */
  wakeAt(atMs: number): void;
  close(): void;
}

/** A ticker thread as the main thread holds it. */
export interface TickerThread {
  worker: Worker;
  shared: SharedArrayBuffer;
  /** Resolves once the thread has loaded. */
  ready: Promise<void>;
}

/** Spawns a ticker thread (main thread side). */
export function spawnTicker(): TickerThread {
  const worker = new Worker(new URL("./ticker_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const ready = new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`ticker thread failed: ${event.message}`));
    };
  });
  return { worker, shared: new SharedArrayBuffer(16), ready };
}

/** Starts the ticker thread; returns the port to give the load worker (transfer it). */
export function connectTicker(ticker: TickerThread): MessagePort {
  const channel = new MessageChannel();
  const init: TickerInit = { shared: ticker.shared, port: channel.port1 };
  ticker.worker.postMessage(init, [channel.port1]);
  return channel.port2;
}

/** Stops a ticker thread: it must leave Atomics.wait itself, terminate() cannot interrupt it. */
export function stopTicker(ticker: TickerThread): void {
  const state = new Int32Array(ticker.shared, 0, 2);
  Atomics.store(state, 1, 1);
  Atomics.add(state, 0, 1);
  Atomics.notify(state, 0);
  ticker.worker.terminate();
}

/** The load worker's side: arms the ticker through shared memory, ticks arrive on `port`. */
export function tickerWaker(init: TickerInit, onTick: () => void): Waker {
  const state = new Int32Array(init.shared, 0, 2);
  const armed = new Float64Array(init.shared, 8, 1);
  let last = 0;
  init.port.onmessage = () => {
    // Woken: the same time may be asked for again (the tick came early by this thread's clock),
    // and must then arm the ticker again rather than be taken for a repeat of a pending ask.
    last = 0;
    onTick();
  };
  return {
    wakeAt(atMs) {
      const at = performance.timeOrigin + atMs;
      if (at === last) return;
      // Moving an untriggered arming later needs no wake-up: the ticker sleeps until the earlier
      // time at the latest, then reads the new one. A busy worker re-arms for every slot it
      // sends, and waking the ticker each time cost it a fifth of a core at 20,000/s. After a
      // tick (last = 0) the ticker may sleep without a deadline, so it is always woken then.
      const sooner = last === 0 || at < last;
      last = at;
      armed[0] = at;
      Atomics.add(state, 0, 1);
      if (sooner) Atomics.notify(state, 0);
    },
    close() {
      init.port.onmessage = null;
      init.port.close();
    },
  };
}
