/// <reference lib="deno.worker" />
/**
 * The load worker (a Web Worker spawned by driver/pool.ts): like a main.ts it is an entry point
 * that touches the world, here the target's sockets. It runs its {@link WorkerTask} on an
 * {@link Engine}, posts a delta snapshot every report interval (aligned to the test's start) and a
 * final one, then `done`.
 */
import { Engine } from "./engine.ts";
import { buildRequest } from "./http1_request.ts";
import { Recorder } from "./recorder.ts";
import { tickerWaker } from "./ticker.ts";
import type { Dial } from "./connection.ts";
import {
  assertNever,
  type MainToWorker,
  type WorkerTask,
  type WorkerToMain,
} from "./worker_protocol.ts";

const post = (message: WorkerToMain) => self.postMessage(message);

let engine: Engine | undefined;
let stopRequested = false;

/** A dialer for the target's address: plain TCP, or TLS for https. */
function dialerFor(url: URL): Dial {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (url.protocol === "https:") {
    const port = Number(url.port || 443);
    return () => Deno.connectTls({ hostname, port });
  }
  const port = Number(url.port || 80);
  return async (signal) => {
    const conn = await Deno.connect({ hostname, port, signal });
    conn.setNoDelay(true);
    return conn;
  };
}

async function run(task: WorkerTask): Promise<void> {
  const { spec } = task;
  const url = new URL(spec.url);
  const request = buildRequest(spec);
  const startMs = task.startAt - performance.timeOrigin;
  const recorder = new Recorder(spec.intervalMs === 0);
  engine = new Engine({
    dial: dialerFor(url),
    request,
    head: spec.method === "HEAD",
    connections: task.connections,
    count: spec.count === 0 ? Infinity : task.count,
    timetable: {
      startMs,
      intervalMs: spec.intervalMs,
      offset: task.offset,
      stride: task.stride,
    },
    endMs: spec.durationMs === null ? Infinity : startMs + spec.durationMs,
    timeoutMs: spec.timeoutMs,
    ...(task.ticker === undefined
      ? {}
      : { createWaker: (onWake: () => void) => tickerWaker(task.ticker!, onWake) }),
  }, recorder);
  if (stopRequested) engine.stop();

  // Snapshots at start + k * reportMs, computed from k so they do not drift.
  let tick = 1;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    const wait = startMs + tick * task.reportMs - performance.now();
    timer = setTimeout(() => {
      tick++;
      post({ type: "snapshot", snapshot: recorder.take(false) });
      schedule();
    }, Math.max(0, wait));
  };
  schedule();
  try {
    await engine.run();
  } finally {
    clearTimeout(timer);
  }
  post({ type: "snapshot", snapshot: recorder.take(true) });
  post({ type: "done" });
}

self.onmessage = (event: MessageEvent<MainToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "start":
      run(message.task).catch((err) => {
        post({ type: "error", message: err instanceof Error ? err.message : String(err) });
      });
      break;
    case "stop":
      stopRequested = true;
      engine?.stop();
      break;
    default:
      assertNever(message);
  }
};

post({ type: "ready" });
